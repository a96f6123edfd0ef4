"""What recovering tool calls from text costs per streamed chunk.

Times StreamTranslator.feed_text, the path a text chunk takes through the gateway, per chunk of
a long answer cut into 4-character chunks, with Claude Code's own tools offered (from the
capture in tests/wire):

  * plain prose, with no character that can begin a call's markup;
  * code-like prose: angle brackets, square brackets, braces and backticks in every line;
  * a call-bearing answer: prose, then a Hermes <tool_call> whose arguments are 2 kB;
  * the same answer with text tool calls off (the `text_tool_calls = false` quirk), the floor.

Each figure is the median of 7 runs, in microseconds per chunk. Run it twice or more on a shared
machine: only figures of one run compare with each other.

Usage: python benchmarks/textcalls.py
"""

import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chunks(text: str, size: int = 4) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def per_chunk_us(pieces: list[str], tools: dict, text_tool_calls: bool = True) -> float:
    from freeclaude.translate.stream import StreamTranslator

    runs = []
    for _ in range(7):
        tr = StreamTranslator(model="m", tools=tools, text_tool_calls=text_tool_calls)
        feed = tr.feed_text
        start = time.perf_counter()
        for piece in pieces:
            feed(piece)
        tr.finish(done=True)
        runs.append((time.perf_counter() - start) / len(pieces))
    return statistics.median(runs) * 1e6


def main() -> None:
    capture = json.loads((ROOT / "tests" / "wire" / "claude-code-2.1.328-request-1.json").read_text())["body"]
    tools = {t["name"]: t.get("input_schema") or {} for t in capture["tools"]}
    prose = "The tests fail because the parser reads the header twice, so the second read sees an empty buffer. " * 80
    code = "Call f(x) when a < b and c > d, then xs[i] = {k: v} and run `make test` to see it.\n" * 100
    arguments = {"file_path": "/tmp/notes.md", "content": "line of notes\n" * 150}
    call = "I'll write it now.\n<tool_call>\n" + json.dumps({"name": "Write", "arguments": arguments}) + "\n</tool_call>"
    cases = [
        ("plain prose", prose, True),
        ("code-like prose", code, True),
        ("prose, then a 2 kB <tool_call>", call, True),
        ("plain prose, text tool calls off", prose, False),
    ]
    print(f"{'stream':40} {'chunks':>7} {'µs per chunk':>13}")
    for name, text, on in cases:
        pieces = chunks(text)
        print(f"{name:40} {len(pieces):7d} {per_chunk_us(pieces, tools, on):13.2f}")


if __name__ == "__main__":
    main()
