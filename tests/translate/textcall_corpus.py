"""The corpus of tool calls that models wrote as text (tests/translate/corpus/*.json).

Every sample is an answer a model really gave, from the public issue, pull request or parser test
its `source` names, with the tools the request offered (or, where the source does not show them,
the schema of the tool the call names, which its `note` says) and the blocks Claude Code must get:
the calls as tool_use blocks, the rest unchanged. A sample is either `content` (the text the
upstream streamed, `chunks` when the source shows how it was split) or `deltas` (structured
tool_calls that came broken). `table()` is the README's recovery table, made from it.
"""

import json
import random
from pathlib import Path

from freeclaude.translate.response import accumulate
from freeclaude.translate.stream import StreamTranslator

CORPUS = Path(__file__).resolve().parent / "corpus"
ORDER = ("hermes", "qwen3_coder", "glm", "json", "pythonic", "llama", "mistral", "kimi", "deepseek", "harmony",
         "minimax", "gemma", "seed", "lmstudio", "structured", "fenced", "negative")


def samples() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text())
        out += [(data["format"], s) for s in data["samples"]]
    return sorted(out, key=lambda fs: (ORDER.index(fs[0]), fs[1]["id"]))


def tools(sample: dict) -> dict:
    return {t["name"]: t["input_schema"] for t in sample["tools"]}


def pieces(sample: dict, how: str, seed: int = 0) -> list[str]:
    """The content as the upstream streams it: whole, as the source split it, or cut at random points."""
    text = sample["content"]
    if how == "whole":
        return [text]
    if how == "source" and sample.get("chunks"):
        return sample["chunks"]
    rng = random.Random(f"{sample['id']}:{seed}")
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, max(1, len(text) // 7))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def chunks(sample: dict, how: str = "whole", seed: int = 0) -> list[dict]:
    """The Chat Completions stream chunks of a sample (deltas, then the finish)."""
    if "deltas" in sample:
        deltas = sample["deltas"]
    else:
        deltas = [{"content": p} for p in pieces(sample, how, seed)]
    return [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas] + [
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]


def translate(sample: dict, how: str = "whole", seed: int = 0, text_tool_calls: bool = True) -> list[dict]:
    """The blocks the gateway's translator makes of a sample."""
    tr = StreamTranslator(model="m", tools=tools(sample), text_tool_calls=text_tool_calls)
    events = []
    for chunk in chunks(sample, how, seed):
        events += tr.feed(chunk)
    events += tr.finish(done=True)
    return comparable(accumulate(events)["content"])


def comparable(blocks: list[dict]) -> list[dict]:
    """Blocks as a sample's `expect` writes them: no ids or signatures, adjacent texts joined."""
    out: list[dict] = []
    for b in blocks:
        if b["type"] == "text":
            if out and out[-1]["type"] == "text":
                out[-1] = {"type": "text", "text": out[-1]["text"] + b["text"]}
            else:
                out.append({"type": "text", "text": b["text"]})
        elif b["type"] == "thinking":
            out.append({"type": "thinking", "thinking": b["thinking"]})
        elif b["type"] == "tool_use":
            out.append({"type": "tool_use", "name": b["name"], "input": b["input"]})
    return out


def recoverable(sample: dict) -> bool:
    return any(b["type"] == "tool_use" for b in sample["expect"])


def table(results: dict[str, bool] | None = None, peers: dict[str, str] | None = None) -> str:
    """The README's table: per format, the samples and how many came back as the blocks expected
    (`results` maps a sample id to whether it did; by default, run here through the translator,
    split at random points and whole, both of which must hold)."""
    rows: dict[str, list[int]] = {}
    for fmt, s in samples():
        ok = results[s["id"]] if results is not None else all(
            translate(s, how) == s["expect"] for how in ("whole", "random"))
        row = rows.setdefault(fmt, [0, 0, 0, 0])  # samples, calls to recover, recovered, negatives kept
        row[0] += 1
        if recoverable(s):
            row[1] += 1
            row[2] += ok
        else:
            row[3] += ok
    lines = ["| format | samples | calls recovered | stayed text as they must |", "|---|---|---|---|"]
    total = [0, 0, 0, 0]
    for fmt in ORDER:
        if fmt not in rows:
            continue
        n, calls, got, kept = rows[fmt]
        total = [a + b for a, b in zip(total, rows[fmt])]
        lines.append(f"| {fmt} | {n} | {_of(got, calls)} | {_of(kept, n - calls)} |")
    n, calls, got, kept = total
    lines.append(f"| **all** | **{n}** | **{got} of {calls}** | **{kept} of {n - calls}** |")
    tests = sum(s["origin"] == "parser test" for _, s in samples())
    lines.append(f"\n{n - tests} samples come from issues and pull requests, {tests} from the serving projects' parser tests.")
    return "\n".join(lines)


def _of(part: int, whole: int) -> str:
    return f"{part} of {whole}" if whole else "—"
