"""Writing files other programs read (settings, state, tokens): atomically, so a reader sees
the old file or the new one and never half of one, and privately where asked.

Folders these functions create are the owner's alone (0700), and so are new files (0600): on a
machine others use, what freeclaude keeps (prompts in logs, usage, tokens) is nobody else's."""

import os
import tempfile
from pathlib import Path

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def write_atomic(path: Path, data: bytes, mode: int | None = None, sync: bool = True) -> None:
    """Replaces `path` with `data`. A symlink is followed (a dotfiles manager's link stays a
    link); `mode` sets the new file's permission bits, else an existing file's are kept (a new
    one is 0600). `sync=False` for state that is rewritten often and worthless after a crash."""
    path = path.resolve() if path.is_symlink() else path
    make_dirs(path.parent)
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # on Windows only the read-only bit means anything: harmless
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def create_private(path: Path, data: bytes) -> bool:
    """Creates `path` readable by its owner only (0600) holding `data`, unless it already exists:
    True when this call created it. Written aside and hard-linked into place, which never
    replaces a file: of racing callers one wins, and no reader sees it half written."""
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def make_dirs(folder: Path) -> None:
    """Creates `folder` and any folder above it that is missing, each 0700; existing ones are
    left as they are (a settings file's folder is the user's, not ours)."""
    missing = []
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        try:
            os.mkdir(created, PRIVATE_DIR)
        except FileExistsError:
            pass  # another process made it meanwhile


def private_dir(folder: Path) -> Path:
    """`folder`, one of freeclaude's own: created 0700, or tightened to that when an older
    version left it open to others."""
    make_dirs(folder)
    tighten(folder)
    return folder


def private_file(path: Path) -> Path:
    """`path`, a file of freeclaude's that something else will open (SQLite, a log handler):
    created empty and 0600 when missing, tightened when it exists open to others."""
    make_dirs(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        tighten(path)
    return path


def tighten(path: Path) -> None:
    """Takes away what group and others may do with `path`, if anything. A missing path, or one
    that is not the user's to change (another owner, a read-only disk), is left as it is; nothing
    on Windows, where these bits are not what guards a file."""
    if os.name == "nt":
        return
    try:
        mode = os.stat(path).st_mode
        if owner_only(mode) != mode & 0o7777:
            os.chmod(path, owner_only(mode))
    except OSError:
        pass


def owner_only(mode: int) -> int:
    """`mode` without the bits that let group and others in."""
    return mode & 0o7700


class Removable:
    """Holds a file made for one Claude Code (its settings, its memory files), removed once it
    has exited; None: nothing to remove."""

    private: Path | None = None

    def remove(self) -> None:
        if self.private:
            try:
                self.private.unlink()
            except OSError:
                pass
