"""A project's own profile: `.freeclaude.toml` holding `profile = "NAME"`, in the working
directory or the nearest directory above it that has one. `--profile` still wins."""

from pathlib import Path

from freeclaude.profiles.schema import Profile, ProfileError
from freeclaude.profiles.store import Store, load_toml

FILE = ".freeclaude.toml"


def find(cwd: Path) -> Path | None:
    for directory in (cwd, *cwd.parents):
        candidate = directory / FILE
        if candidate.is_file():
            return candidate
    return None


def profile_name(path: Path) -> str:
    data = load_toml(path)  # bad TOML: an error that names the file
    extra = sorted(set(data) - {"profile"})
    if extra:
        raise ProfileError(f'{path}: {extra[0]} is not a setting here (the file holds profile = "NAME")')
    name = data.get("profile")
    if not isinstance(name, str) or not name:
        raise ProfileError(f'{path}: expected profile = "NAME", the name of one of your profiles')
    return name


def choose(store: Store, flag: str | None, cwd: Path) -> tuple[Profile | None, str]:
    """The profile to use and why it is that one: --profile, else the project's file, else the
    default. (None, why) when there is no profile at all yet."""
    if flag:
        return store.load(flag), "from --profile"
    path = find(cwd)
    if path is not None:
        name = profile_name(path)
        try:
            return store.load(name), f"from {path}"
        except ProfileError as e:
            raise ProfileError(f"{path}: {e}") from None
    default = store.default()
    return (store.load(default) if default else None), "the default"
