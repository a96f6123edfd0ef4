"""Claude Code must not outlive freeclaude: if freeclaude is killed (kill -9, a closed terminal),
the gateway is gone, and a Claude Code left running would talk to a dead port. Each platform's
own means ties the child to us: on Linux a parent-death signal, on Windows a job object that
kills its processes when its last handle (ours) closes, elsewhere a forked watchdog that ends
the child when our end of a pipe closes."""

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Child:
    """A started child and whatever keeps it tied to us; `release()` once it has exited."""

    def __init__(self, proc: subprocess.Popen[bytes], release: Callable[[], object] | None = None) -> None:
        self.proc = proc
        self._release = release

    def release(self) -> None:
        if self._release:
            self._release()
            self._release = None


def spawn(argv: Sequence[str], env: Mapping[str, str], platform: str = sys.platform) -> Child:
    if platform.startswith("linux"):
        return Child(subprocess.Popen(argv, env=env, preexec_fn=_parent_death_signal()))
    if platform == "win32":
        proc = subprocess.Popen(argv, env=env)
        return Child(proc, _kill_on_close(proc))
    proc = subprocess.Popen(argv, env=env)
    return Child(proc, _watchdog(proc.pid))


def _parent_death_signal():
    """What the forked child runs before exec: SIGTERM when the parent dies (Claude Code then
    ends as it does on SIGTERM, terminal restored). libc is loaded here, before the fork."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def _watchdog(pid: int) -> Callable[[], None]:
    """A forked process that waits for EOF on a pipe only we hold open, then ends `pid`. Ctrl-C and
    a closed terminal reach it as they reach the rest of the foreground group: it ignores them,
    since its job is what happens after we are gone."""
    r, w = os.pipe()
    watcher = os.fork()
    if watcher == 0:  # the watchdog
        try:
            os.close(w)
            for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
            while os.read(r, 1):
                pass
            os.kill(pid, signal.SIGTERM)
        finally:
            os._exit(0)
    os.close(r)

    def release() -> None:
        os.kill(watcher, signal.SIGKILL)  # the child has exited: nothing left to guard
        os.waitpid(watcher, 0)
        os.close(w)

    return release


def _kill_on_close(proc: subprocess.Popen[bytes]) -> Callable[[], object] | None:
    """A job object with KILL_ON_JOB_CLOSE holding the child: Windows ends the child when the
    job's last handle closes, which happens when our process ends, however it ends."""
    if sys.platform != "win32":  # never so: this says to the type checker that ctypes.WinDLL is there
        return None
    import ctypes
    from ctypes import wintypes

    class Basic(ctypes.Structure):
        _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD)]

    class Extended(ctypes.Structure):
        _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", ctypes.c_uint64 * 6),
                    ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    job = kernel32.CreateJobObjectW(None, None)
    info = Extended()
    info.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    job_object_extended_limit_information = 9
    if not (job and kernel32.SetInformationJobObject(job, job_object_extended_limit_information,
                                                     ctypes.byref(info), ctypes.sizeof(info))
            and kernel32.AssignProcessToJobObject(job, wintypes.HANDLE(int(proc._handle)))):
        return None  # best effort: the child runs untied rather than not at all
    return lambda: kernel32.CloseHandle(job)
