"""Writing files other programs read (settings, state, tokens): atomically, so a reader sees
the old file or the new one and never half of one, and privately where asked."""

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int | None = None, sync: bool = True) -> None:
    """Replaces `path` with `data`. A symlink is followed (a dotfiles manager's link stays a
    link); `mode` sets the new file's permission bits, else an existing file's are kept (a new
    one is 0600). `sync=False` for state that is rewritten often and worthless after a crash."""
    path = path.resolve() if path.is_symlink() else path
    path.parent.mkdir(parents=True, exist_ok=True)
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
    path.parent.mkdir(parents=True, exist_ok=True)
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
