"""Strict provider emulators, one module per provider family; `for_template(name)` finds the
emulator class a built-in template is proven against (each module lists its TEMPLATES)."""

import importlib
import pkgutil


def registry() -> dict[str, type]:
    """template name -> emulator class, from every module's TEMPLATES = {"template": Class}."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith(("base", "test_")):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.update(getattr(module, "TEMPLATES", {}))
    return found
