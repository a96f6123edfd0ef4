"""Claude Code's interactive screen, driven through tmux: a server of its own per test (its own
socket), one window per program, keys sent and the screen read back as text."""

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import time


class Tmux:
    def __init__(self, name: str, env: dict, width: int = 200, height: int = 50) -> None:
        if not shutil.which("tmux"):
            raise AssertionError("tmux is not installed (apt-get install tmux; .ci/run does)")
        self.socket = f"freeclaude-test-{os.getpid()}-{name}"
        self.env = env
        self.size = (str(width), str(height))
        self.windows = 0

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=10).stdout

    def open(self, argv: list[str], cwd) -> str:
        """Runs argv in a new window; the window stays once it exits, with its exit code shown."""
        script = f"cd {shlex.quote(str(cwd))} && {shlex.join(argv)}; echo EXIT=$?; sleep 3600"
        target = f"w{self.windows}"
        if self.windows == 0:
            self._tmux("new-session", "-d", "-s", "t", "-n", target, "-x", self.size[0], "-y", self.size[1], script)
        else:
            self._tmux("new-window", "-t", "t", "-n", target, script)
        self.windows += 1
        return f"t:{target}"

    def send(self, target: str, *keys: str) -> None:
        self._tmux("send-keys", "-t", target, *keys)

    def type(self, target: str, text: str) -> None:
        self._tmux("send-keys", "-t", target, "-l", text)

    def screen(self, target: str) -> str:
        return self._tmux("capture-pane", "-p", "-t", target)

    async def wait_for(self, target: str, pattern: str, timeout: float = 60) -> re.Match:
        """Until the screen matches; the loop keeps running meanwhile (the fake upstream lives in it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.screen(target))
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never showed; the screen:\n{self.screen(target)}")
            await asyncio.sleep(0.2)

    def close(self) -> None:
        self._tmux("kill-server")
