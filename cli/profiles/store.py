"""Where profiles live: <config>/profiles/NAME.toml, the default's name in <config>/config.toml,
and the built-in templates shipped in the package."""

import tomllib
from pathlib import Path

from freeclaude.profiles.schema import _NAME, MAX_NAME, Profile, ProfileError, parse
from freeclaude.service import home
from freeclaude.service.files import write_atomic


def load_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{path}: bad TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ProfileError(f"{path}: not UTF-8 (an invalid byte at offset {e.start}); TOML files must be UTF-8") from None
    except OSError as e:
        raise ProfileError(f"{path}: cannot read: {e.strerror}") from None


def write_toml(path: Path, data: dict) -> None:
    import tomli_w  # only writing needs it

    write_atomic(path, tomli_w.dumps(data).encode())


class Store:
    """Profiles under <config>/profiles/NAME.toml; the default's name in <config>/config.toml."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or home.config_dir()
        self.dir = self.root / "profiles"

    def path(self, name: str) -> Path:
        if not _NAME.match(name) or len(name) > MAX_NAME:
            shown = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "…"
            raise ProfileError(f"{shown!r} is not a valid profile name (letters, digits, - _ ., "
                               f"at most {MAX_NAME} characters)")
        return self.dir / f"{name}.toml"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.dir.glob("*.toml")) if self.dir.is_dir() else []

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def load(self, name: str) -> Profile:
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none yet"
            raise ProfileError(f"no profile named {name!r} (profiles: {known}); add one with `freeclaude profile add`")
        return parse(load_toml(path), name, str(path))

    def save(self, name: str, data: dict) -> Profile:
        path = self.path(name)
        profile = parse(data, name, str(path))  # never write what would not load
        write_toml(path, data)
        if self.default() is None:
            self.set_default(name)
        return profile

    def remove(self, name: str) -> None:
        path = self.path(name)
        if not path.is_file():
            raise ProfileError(f"no profile named {name!r}")
        was_default = self.default() == name
        path.unlink()
        if was_default:
            rest = self.names()
            self._write_config({"default_profile": rest[0]} if rest else {})

    def default(self) -> str | None:
        path = self.root / "config.toml"
        if not path.is_file():
            return None
        value = load_toml(path).get("default_profile")
        return value if isinstance(value, str) and self.exists(value) else None

    def set_default(self, name: str) -> None:
        if not self.exists(name):
            raise ProfileError(f"no profile named {name!r}")
        self._write_config({"default_profile": name})

    def _write_config(self, data: dict) -> None:
        write_toml(self.root / "config.toml", data)

    def resolve(self, name: str | None) -> Profile:
        """The named profile, else the default one."""
        if name:
            return self.load(name)
        default = self.default()
        if default:
            return self.load(default)
        raise ProfileError("no profile yet: add one with `freeclaude profile add NAME --template T` "
                           "(`freeclaude profile templates` lists them)")


# ---------------------------------------------------------------- templates


def templates() -> dict[str, dict]:
    """Built-in templates shipped in the package, by name."""
    from importlib import resources

    out = {}
    for entry in sorted(resources.files("freeclaude.templates").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out[entry.name[:-5]] = tomllib.loads(entry.read_text(encoding="utf-8"))
    return out


def template(name: str) -> dict:
    found = templates()
    if name not in found:
        raise ProfileError(f"unknown template {name!r} (templates: {', '.join(found)})")
    return found[name]

