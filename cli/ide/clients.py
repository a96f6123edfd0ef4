"""Where each client reads the environment that points it at the background gateway, and a record
of what freeclaude put there, so that `ide uninstall` gives every file back as it was.

- claude: `env` in Claude Code's user settings (~/.claude/settings.json, or $CLAUDE_CONFIG_DIR),
  which Claude Code 2.1.33x applies to every session it runs, IDE extensions included.
- vscode: the Claude Code extension's `claudeCode.environmentVariables` (a list of {name, value})
  and `claudeCode.disableLoginPrompt` in the user settings of VS Code, its Insiders build, Cursor
  and VSCodium, wherever they are installed.
- jetbrains: the plugin's "Claude command" setting, whose file format is not documented: the
  command to paste is printed instead.

The records (data dir, ide/TARGET.json, 0600: they hold the files' earlier contents, which may
include the user's own values) keep each file's bytes from before, a hash of what was written
and what each key held. When a file is still exactly what freeclaude wrote, uninstall puts the
old bytes back; when the user changed it since, only what is still freeclaude's comes out.

A file that receives the gateway's token is made the user's alone (0600), and its mode from
before (kept in the record) comes back on uninstall unless the user changed it since.
"""

import base64
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from freeclaude.claude.facts import USER_KEEPS
from freeclaude.errors import FreeclaudeError
from freeclaude.ide import injection
from freeclaude.service import home
from freeclaude.service.files import owner_only, tighten, write_atomic

VSCODE_VARIANTS = ("Code", "Code - Insiders", "Cursor", "VSCodium")
TARGETS = ("claude", "vscode", "jetbrains")
BOM = b"\xef\xbb\xbf"


@dataclasses.dataclass
class Settings:
    path: Path
    strict: bool  # plain JSON (Claude Code's settings) rather than JSON with comments (VS Code's)
    indent: str  # for a file that shows none


def claude_settings(env: Mapping[str, str] = os.environ) -> Settings:
    root = Path(env["CLAUDE_CONFIG_DIR"]).expanduser() if env.get("CLAUDE_CONFIG_DIR") else Path.home() / ".claude"
    return Settings(root / "settings.json", strict=True, indent="  ")


def vscode_config_root(platform: str = sys.platform, env: Mapping[str, str] = os.environ) -> Path:
    if platform == "win32":
        return Path(env["APPDATA"]) if env.get("APPDATA") else Path.home() / "AppData" / "Roaming"
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"


def vscode_settings(platform: str = sys.platform, env: Mapping[str, str] = os.environ) -> list[Settings]:
    """The user settings of each VS Code variant installed (its config folder exists)."""
    root = vscode_config_root(platform, env)
    return [Settings(root / v / "User" / "settings.json", strict=False, indent="    ")
            for v in VSCODE_VARIANTS if (root / v).is_dir()]


def wanted(target: str, variables: Mapping[str, str], deny: tuple[str, ...] = ()) -> dict:
    """`deny`: tools to deny in Claude Code's settings (a lean level's: lean.denied)."""
    if target == "claude":
        want = {"env": injection.Env(dict(variables), keep=USER_KEEPS)}
        return {**want, "permissions": injection.Entries("deny", deny)} if deny else want
    # disableLoginPrompt: the extension's own sign-in screen, which the gateway makes pointless
    return {"claudeCode.environmentVariables": injection.Env(dict(variables), shape="list", keep=USER_KEEPS),
            "claudeCode.disableLoginPrompt": True}


# ---------------------------------------------------------------- records


def _records_path(target: str) -> Path:
    return home.data_dir() / "ide" / f"{target}.json"


def records(target: str) -> dict[str, dict]:
    """path -> record of each file `ide install TARGET` wrote."""
    path = _records_path(target)
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        if not (isinstance(files, dict) and all(_is_record(r) for r in files.values())):
            raise ValueError("not what freeclaude writes there")
        return files
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise FreeclaudeError(f"{path} is damaged ({e}); the settings files it covers are unchanged") from None


def _is_record(record: object) -> bool:
    return (isinstance(record, dict) and {"strict", "original", "written", "created_dirs"} <= record.keys()
            and isinstance(record.get("keys"), dict)
            and all(isinstance(e, dict) and isinstance(e.get("vars", {}), dict) for e in record["keys"].values()))


def _ours(record: dict) -> dict:
    """The variables freeclaude set in a file, as it set them."""
    return {n: v.get("ours") for entry in record["keys"].values() for n, v in entry.get("vars", {}).items()
            if isinstance(v, dict)}


def base_urls(target: str) -> set[str]:
    """The gateway addresses `ide install TARGET` wrote."""
    return {url for record in records(target).values()
            if isinstance(url := _ours(record).get("ANTHROPIC_BASE_URL"), str)}


def _save_records(target: str, files: dict[str, dict]) -> None:
    path = _records_path(target)
    if files:
        write_atomic(path, json.dumps({"files": files}, indent=2).encode(), mode=0o600)
    elif path.exists():
        path.unlink()


# ---------------------------------------------------------------- install / uninstall


def install(target: str, files: list[Settings], variables: Mapping[str, str], deny: tuple[str, ...] = ()) -> list[str]:
    """Sets the variables (and denies the tools) in each file; returns what was done, a line per file."""
    done, files_done = [], records(target)
    want = wanted(target, variables, deny)
    for s in files:
        previous = files_done.get(str(s.path))
        raw = _read(s.path)
        base = _restore(raw, previous, s.path) if previous else raw  # the file as it would be without us
        text, bom = _decode(base, s.path)
        new_text, keys = injection.inject(text, want, strict=s.strict, where=str(s.path), indent=s.indent)
        created = previous["created_dirs"] if previous else _missing_dirs(s.path.parent)
        new_raw = _encode(new_text, bom)
        mode = previous.get("mode") if previous and "mode" in previous else _mode(s.path)
        if new_raw != raw:
            _write(s.path, new_raw, None if mode is None else owner_only(mode))
        else:
            tighten(s.path)
        files_done[str(s.path)] = {"strict": s.strict, "original": _b64(base), "written": _hash(new_raw),
                                   "keys": keys, "created_dirs": created, "mode": mode}
        _save_records(target, files_done)  # after each file: a failure later leaves no file unrecorded
        done.append(_said_installed(s.path, keys))
    return done


def uninstall(target: str) -> list[str]:
    files = records(target)
    if not files:
        return [f"nothing of freeclaude's is installed for {target}"]
    done = []
    for path_name, record in list(files.items()):
        path = Path(path_name)
        raw = _read(path)
        restored = _restore(raw, record, path)
        if raw is None:
            done.append(f"{path}: gone already; nothing to take out")
        elif restored is None:
            _write(path, None)
            _remove_if_empty(record["created_dirs"])
            done.append(f"{path}: removed (freeclaude had created it)")
        else:
            if restored != raw:
                _write(path, restored)
            _give_back_mode(path, record.get("mode"))
            exact = _hash(raw) == record["written"]
            done.append(f"{path}: restored byte for byte" if exact
                        else f"{path}: took out what freeclaude had put in; your changes since stay")
        del files[path_name]
        _save_records(target, files)
    return done


def check(target: str) -> list[tuple[Path, list[str], dict[str, str]]]:
    """Each installed file, which of freeclaude's values it still holds, and the variables
    freeclaude set there (for `doctor`)."""
    found: list[tuple[Path, list[str], dict[str, str]]] = []
    for path_name, record in records(target).items():
        path = Path(path_name)
        ours = _ours(record)
        raw = _read(path)
        if raw is None:
            found.append((path, [], ours))
            continue
        text, _ = _decode(raw, path)
        _, present = injection.eject(text, record["keys"], strict=record["strict"], where=str(path))
        found.append((path, present, ours))
    return found


def _restore(raw: bytes | None, record: dict, path: Path) -> bytes | None:
    """The file without what `record` says freeclaude put in: its old bytes while nothing else
    changed, else the current file minus freeclaude's values. None: no file."""
    if raw is None:
        return None
    if _hash(raw) == record["written"]:
        return None if record["original"] is None else base64.b64decode(record["original"])
    text, bom = _decode(raw, path)
    text, _ = injection.eject(text, record["keys"], strict=record["strict"], where=str(path))
    if record["original"] is None and "".join(text.split()) == "{}":
        return None  # freeclaude created it and nothing of the user's is in it
    return _encode(text, bom)


def _write(path: Path, raw: bytes | None, mode: int | None = None) -> None:
    """Writes (or, for None, removes) a settings file, with `mode` if given, else the mode it has;
    a refusal is said, not raised."""
    try:
        if raw is None:
            path.unlink()
        else:
            write_atomic(path, raw, mode)
    except OSError as e:
        raise FreeclaudeError(f"cannot write {path}: {e.strerror or e}") from None


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def _give_back_mode(path: Path, mode: int | None) -> None:
    """The mode a file had before install tightened it, unless it was changed since."""
    if mode is not None and mode != owner_only(mode) and _mode(path) == owner_only(mode):
        try:
            os.chmod(path, mode)
        except OSError as e:
            raise FreeclaudeError(f"cannot give {path} back its mode {mode:o}: {e.strerror or e}") from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FreeclaudeError(f"cannot read {path}: {e.strerror}") from None


def _decode(raw: bytes | None, path: Path) -> tuple[str, bool]:
    if raw is None:
        return "", False
    bom = raw.startswith(BOM)
    try:
        return raw[len(BOM) if bom else 0:].decode("utf-8"), bom
    except UnicodeDecodeError:
        raise FreeclaudeError(f"{path} is not UTF-8 text: freeclaude left it untouched") from None


def _encode(text: str, bom: bool) -> bytes:
    return (BOM if bom else b"") + text.encode("utf-8")


def _hash(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(raw).hexdigest()


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def _missing_dirs(folder: Path) -> list[str]:
    """The folders that writing into `folder` will create, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(str(folder))
        folder = folder.parent
    return missing


def _remove_if_empty(folders: list[str]) -> None:
    for folder in folders:
        try:
            Path(folder).rmdir()
        except OSError:
            return  # not empty: something else lives there now


def _said_installed(path: Path, keys: dict) -> str:
    parts = []
    for key, entry in keys.items():
        if "vars" in entry:
            replaced = [n for n, v in entry["vars"].items() if v["had"] and v["before"] != v["ours"]]
            parts.append(f"{key}: {', '.join(entry['vars'])}"
                         + (f" (replacing your {', '.join(replaced)}, put back by uninstall)" if replaced else ""))
        elif "entries" in entry:
            parts.append(f"{key}.{entry['list']}: {', '.join(entry['entries']) or 'all there already'}")
        else:
            parts.append(f"{key}: {json.dumps(entry['ours'])}")
    return f"{path}: " + "; ".join(parts)
