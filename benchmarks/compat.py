"""The compatibility table: `freeclaude profile test` against every built-in template, each
pointed at its strict emulator (tests/emulators), printed as the Markdown rows
`profile test --markdown` prints for a real provider. Against emulators the latencies say
nothing about the providers; the answers and tool-call columns say that the template, the
translation and the provider's documented rules agree.

Usage: python benchmarks/compat.py [--rounds 2]
"""

import argparse
import asyncio
import io
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from freeclaude.diagnose import probe
from freeclaude.profiles import schema, store
from tests.emulators import emulate, pointed


async def row(name: str, data: dict, rounds: int) -> list[str]:
    emulator, server, url = await emulate(name)
    try:
        pointed_data, env = pointed(data, url, emulator.key)
        os.environ.update(env)
        results = await probe.run(schema.parse(pointed_data, name, name), Console(file=io.StringIO()), rounds=rounds)
    finally:
        await server.close()
    return probe.markdown(results, f"template {name} vs its emulator").splitlines()[2:]


async def main(rounds: int) -> None:
    os.environ["FREECLAUDE_HOME"] = tempfile.mkdtemp(prefix="freeclaude-compat-")
    print(probe.MARKDOWN_HEADER)
    for name, data in store.templates().items():
        for line in await row(name, data, rounds):
            print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args().rounds))
