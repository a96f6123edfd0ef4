"""Whether a process lives, asked the way each platform allows without disturbing it."""

import os
import sys


def alive(pid: int, platform: str = sys.platform) -> bool | None:
    """True or False where it can be told; None where it cannot (Windows without its API)."""
    if platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:  # Linux: a zombie has ended, whoever is left to reap it
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(") ", 1)[-1][:1] != "Z"
    except OSError:
        return True


def _alive_windows(pid: int) -> bool | None:
    """os.kill(pid, 0) would end the process on Windows: ask for its exit code instead."""
    if sys.platform != "win32":  # never so: this says to the type checker that ctypes.WinDLL is there
        return None
    try:
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    except (AttributeError, OSError):
        return None
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
