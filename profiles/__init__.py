"""Built-in profile templates (TOML), shipped inside the package as freeclaude.templates."""
