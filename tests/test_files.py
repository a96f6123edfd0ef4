"""Files other programs read are replaced whole, keep their permissions and links; secrets are
created private, once."""

import os
import stat
import threading

from freeclaude.files import create_private, write_atomic


def test_write_atomic_replaces_keeps_the_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["settings.json"]
    write_atomic(tmp_path / "deep" / "er" / "state.json", b"{}", mode=0o600)
    assert stat.S_IMODE((tmp_path / "deep" / "er" / "state.json").stat().st_mode) == 0o600


def test_write_atomic_writes_through_a_symlink(tmp_path):
    (tmp_path / "dotfiles").mkdir()
    target = tmp_path / "dotfiles" / "real.json"
    target.write_text("old")
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_create_private_makes_one_file_however_many_race(tmp_path):
    path = tmp_path / "token"
    won = []
    threads = [threading.Thread(target=lambda i=i: won.append(create_private(path, f"token-{i}".encode())))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won.count(True) == 1 and path.read_text() in {f"token-{i}" for i in range(8)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_private(path, b"other") is False and path.read_text() != "other"
    assert sorted(os.listdir(tmp_path)) == ["token"]  # no temporary left behind
