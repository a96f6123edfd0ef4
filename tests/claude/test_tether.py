"""Claude Code does not outlive a freeclaude killed with -9: on Linux by the parent-death
signal, elsewhere by the watchdog (both run here, the watchdog as macOS would use it)."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from freeclaude.service.processes import alive
from tests.service.test_background import gone
from tests.support.standin import seen, start_run, until_ready

PARENT = textwrap.dedent('''\
    import os, sys, time
    from freeclaude.claude import tether
    child = tether.spawn([sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ), platform=sys.argv[1])
    print(child.proc.pid, flush=True)
    time.sleep(60)
''')


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_the_child_ends_when_its_parent_is_killed(platform):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, platform], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()  # SIGKILL: no handler, no cleanup of ours runs
    parent.wait()
    assert gone(child, 5), f"{platform}: the child lived on"


def test_the_watchdog_leaves_a_child_alone_while_the_parent_lives():
    from freeclaude.claude import tether

    child = tether.spawn([sys.executable, "-c", "import time; time.sleep(0.5)"], dict(os.environ), platform="darwin")
    assert child.proc.wait(5) == 0  # ended by itself, not by the watchdog
    child.release()


async def test_claude_ends_when_freeclaude_is_killed(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--wait")
    await until_ready(tmp_path)
    claude = seen(tmp_path)["pid"]
    proc.kill()
    await proc.wait()
    assert gone(claude, 5)
    assert json.loads((tmp_path / "standin.json").read_text())["signal"] == signal.SIGTERM
