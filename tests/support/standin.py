"""A stand-in `claude` for `freeclaude run`: it records its argv, environment and the signals it
gets, asks the gateway one question when told to, and exits as told. With --daemon it does what
Claude Code 2.1.330 does for a background session: starts a detached process with its own
environment and names it in ~/.claude/daemon.lock; that process asks the gateway a question
after the stand-in has exited, then ends."""

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path

from tests.conftest import KEY

STANDIN = textwrap.dedent('''\
    #!{python}
    import json, os, signal, subprocess, sys, time, urllib.request
    if "--background" in sys.argv:  # the daemon: outlives the stand-in, still needs the gateway
        time.sleep(float(os.environ.get("STANDIN_DAEMON_DELAY", "1")))
    if sys.argv[1:] == ["--version"]:  # what freeclaude asks a claude it has not seen before
        print(os.environ.get("STANDIN_VERSION", "2.1.330") + " (Claude Code)")
        sys.exit(0)
    out = os.environ["STANDIN_OUT"]
    record = {{"argv": sys.argv[1:], "env": dict(os.environ), "pid": os.getpid()}}
    for i, arg in enumerate(sys.argv[1:], 1):  # files Claude Code reads at start, gone once it exits
        if arg.startswith("--append-system-prompt-file="):
            record["appended"] = open(arg.split("=", 1)[1], encoding="utf-8").read()
        if arg == "--settings":
            record["settings"] = json.load(open(sys.argv[i + 1], encoding="utf-8"))
    def dump(**extra):
        record.update(extra)
        with open(out + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(out + ".tmp", out)
    dump()
    if "--daemon" in sys.argv:
        daemon = subprocess.Popen([sys.argv[0], "--background", "--ask"], start_new_session=True,
                                  env={{**os.environ, "STANDIN_OUT": out + ".daemon"}}, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lock = {{"pid": daemon.pid, "version": "2.1.330", "startedAt": int(time.time() * 1000), "origin": "transient",
                 "spawnedBy": {{"label": "claude", "cwd": os.getcwd(), "pid": os.getpid()}}}}
        os.makedirs(os.path.join(os.environ["HOME"], ".claude"), exist_ok=True)
        with open(os.path.join(os.environ["HOME"], ".claude", "daemon.lock"), "w") as f:
            json.dump(lock, f)
    if "--ask" in sys.argv:
        body = {{"model": "claude-sonnet-5-5", "max_tokens": 20, "messages": [{{"role": "user", "content": "hi"}}]}}
        req = urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages?beta=true", json.dumps(body).encode(),
                                     {{"Authorization": "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"],
                                      "Content-Type": "application/json"}})
        dump(answer=json.loads(urllib.request.urlopen(req).read()))
        print("the answer went to stdout")
    if "--wait" in sys.argv:
        def on(sig, frame):
            dump(signal=sig)
            sys.exit(128 + sig)
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, on)
        dump(ready=True)
        time.sleep(30)
        sys.exit(99)
    sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]) if "--exit" in sys.argv else 0)
''')


def make_standin(tmp_path) -> Path:
    path = tmp_path / "claude"
    path.write_text(STANDIN.format(python=sys.executable))
    path.chmod(0o755)
    return path


def profile_toml(url: str) -> str:
    return textwrap.dedent(f'''\
        [providers.fake]
        kind = "openai"
        base_url = "{url}"
        api_key_env = "FAKE_KEY"
        [providers.fake.models.big]
        context_window = 65536
        input_price = 1.0
        output_price = 2.0
        [providers.fake.models.small]
        context_window = 16384
        [tiers]
        opus = ["fake:big"]
        sonnet = ["fake:small"]
        ''')


async def start_run(tmp_path, standin, fake_url, *claude_args, run_opts=("--profile", "p"), new_session=False,
                    env: dict | None = None, cwd=None, lean: str | None = None):
    """`freeclaude run RUN_OPTS -- CLAUDE_ARGS` with the stand-in, in a fresh freeclaude home, user
    home and project directory; `lean`: the profile's lean level."""
    home = tmp_path / "home"
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "p.toml").write_text((f'lean = "{lean}"\n' if lean else "") + profile_toml(fake_url))
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    user_home = tmp_path / "user-home"
    user_home.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    base.update({"FREECLAUDE_HOME": str(home), "FREECLAUDE_CLAUDE": str(standin), "FAKE_KEY": KEY, "HOME": str(user_home),
                 "ANTHROPIC_API_KEY": "sk-ant-should-not-reach-claude", "STANDIN_OUT": str(tmp_path / "standin.json"),
                 "COLUMNS": "200"}, **(env or {}))
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "run", *run_opts, "--", *claude_args, cwd=cwd or project,
        env=base, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=new_session)


def seen(tmp_path) -> dict:
    return json.loads((tmp_path / "standin.json").read_text())


async def until_ready(tmp_path):
    for _ in range(200):
        if (tmp_path / "standin.json").exists() and seen(tmp_path).get("ready"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the stand-in never became ready")


