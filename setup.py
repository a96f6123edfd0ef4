"""The one thing pyproject.toml cannot say: every package under cli/, found, installed under
`freeclaude` (setuptools' own `packages.find` would name them `cli.…`)."""

from setuptools import find_packages, setup

setup(packages=["freeclaude", "freeclaude.templates", *(f"freeclaude.{p}" for p in find_packages("cli"))])
