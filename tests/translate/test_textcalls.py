"""Tool calls written as text, and <think> tags, become real blocks."""

import json
import time

import pytest

from freeclaude.translate.response import accumulate
from freeclaude.translate.stream import StreamTranslator
from freeclaude.translate.textcalls import Scanner

TOOLS = {"Write": {"type": "object", "properties": {"file_path": {"type": "string"}, "lines": {"type": "integer"}}}}


def scan(text: str, step: int, tools=TOOLS) -> list[tuple]:
    s = Scanner(tools)
    items = []
    for i in range(0, len(text), step):
        items += s.feed(text[i:i + step])
    items += s.flush()
    merged = []
    for item in items:
        if merged and item[0] == merged[-1][0] and item[0] != "call":
            merged[-1] = (item[0], merged[-1][1] + item[1])
        else:
            merged.append(item)
    return merged


CASES = [
    ("hermes/qwen <tool_call>", 'Sure.<tool_call>\n{"name": "Write", "arguments": {"file_path": "/x"}}\n</tool_call>',
     [("text", "Sure."), ("call", "Write", {"file_path": "/x"})]),
    ("arguments as a JSON string", '<tool_call>{"name": "Write", "arguments": "{\\"file_path\\": \\"/x\\"}"}</tool_call>',
     [("call", "Write", {"file_path": "/x"})]),
    ("qwen3-coder <function=> parameters, typed by the schema",
     "<tool_call>\n<function=Write>\n<parameter=file_path>\n/x\n</parameter>\n<parameter=lines>\n3\n</parameter>\n</function>\n</tool_call>",
     [("call", "Write", {"file_path": "/x", "lines": 3})]),
    ("llama <function=>{json}", '<function=Write>{"file_path": "/y"}</function> done',
     [("call", "Write", {"file_path": "/y"}), ("text", " done")]),
    ("fenced JSON naming a known tool", 'Here:\n```json\n{"name": "Write", "parameters": {"file_path": "/z"}}\n```\nbye',
     [("text", "Here:\n"), ("call", "Write", {"file_path": "/z"}), ("text", "\nbye")]),
    ("fenced JSON naming no known tool stays text", 'E.g. ```json\n{"name": "Other", "arguments": {}}\n``` end',
     [("text", 'E.g. ```json\n{"name": "Other", "arguments": {}}\n``` end')]),
    ("ordinary code block stays text", "Code:\n```python\nx = '<tool_call>'\n```\nok",
     [("text", "Code:\n```python\nx = '<tool_call>'\n```\nok")]),
    ("an unclosed marker is text at the end", "use <tool_call> tags", [("text", "use <tool_call> tags")]),
    ("broken call body stays text", "<tool_call>not json</tool_call>", [("text", "<tool_call>not json</tool_call>")]),
    ("think tags", "<think>plan</think>\n\nanswer", [("think", "plan"), ("text", "answer")]),
    ("angle brackets in prose", "if a < b and c > d", [("text", "if a < b and c > d")]),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("step", [1, 4, 1000])
def test_scanner(name, text, expected, step):
    assert scan(text, step) == expected


def test_without_tools_text_is_never_parsed():
    text = '<tool_call>{"name": "Write", "arguments": {}}</tool_call>'
    assert scan(text, 5, tools={}) == [("text", text)]


def test_plain_text_is_not_held_back():
    s = Scanner(TOOLS)
    assert s.feed("Hello, wor") == [("text", "Hello, wor")]
    assert s.feed("ld <") == [("text", "ld ")]  # only what may start a marker waits
    assert s.feed("b>") == [("text", "<b>")]


def test_textual_call_becomes_a_tool_use_block_and_stop_reason():
    tr = StreamTranslator(model="m", tools=TOOLS)
    events = []
    for piece in ["I'll write it.", "<tool_call>", '{"name": "Write", ', '"arguments": {"file_path": "/x"}}', "</tool_call>"]:
        events += tr.feed({"choices": [{"delta": {"content": piece}}]})
    events += tr.feed({"choices": [{"delta": {}, "finish_reason": "stop"}]}) + tr.finish(done=True)
    msg = accumulate(events)
    assert [b["type"] for b in msg["content"]] == ["text", "tool_use"]
    assert msg["content"][1]["name"] == "Write" and msg["content"][1]["input"] == {"file_path": "/x"}
    assert msg["stop_reason"] == "tool_use"


def test_text_tool_calls_off_by_quirk():
    tr = StreamTranslator(model="m", tools=TOOLS, text_tool_calls=False)
    text = '<tool_call>{"name": "Write", "arguments": {}}</tool_call>'
    events = tr.feed({"choices": [{"delta": {"content": text}, "finish_reason": "stop"}]}) + tr.finish(done=True)
    assert accumulate(events)["content"] == [{"type": "text", "text": text}]


def released(s: Scanner, text: str, step: int = 1) -> str:
    """The text a scanner lets out while `text` streams in, before the stream ends."""
    got = []
    for i in range(0, len(text), step):
        got += s.feed(text[i:i + step])
    return "".join(item[1] for item in got if item[0] == "text")


@pytest.mark.parametrize("prose", [
    "Wrap each call in a <tool_call> tag, then go on writing.",
    "Use <tool_call><b>bold</b> as you like.",
    "The <function=name> form, or <function=my tool>, or <function=>.",
    "A <function=Write> tag followed by prose.",
    "Inline ``` fences and more words.",
    "```json\nnot an object\n```\nafter the block.",
])
def test_prose_mentioning_a_marker_is_not_held_to_the_end(prose):
    s = Scanner(TOOLS)
    assert released(s, prose + " and more") == prose + " and more"
    assert s.flush() == []


def test_an_opening_is_held_only_while_it_may_be_a_call():
    s = Scanner(TOOLS)
    assert s.feed("Use <tool_") == [("text", "Use ")]
    assert s.feed("call>\n ") == []  # a call's body may still follow
    assert s.feed("tags") == [("text", "<tool_call>\n tags")]
    assert s.feed(' or <tool_call>{"name": "Write", "arguments": {}}</tool_call>') == [("text", " or "), ("call", "Write", {})]


def test_a_long_run_of_blanks_after_a_marker_is_released():
    s = Scanner(TOOLS)
    assert released(s, "<tool_call>" + " " * 300) == "<tool_call>" + " " * 300


def test_a_long_call_costs_time_in_proportion_to_its_length():
    """Chunk after chunk, the held call must not be re-read from its start: 16 times the
    text may take about 16 times as long, never 256 (the old scanner's square)."""
    def cost(n: int) -> float:
        content = ("line of code with <angle> brackets and `ticks`\n" * (n // 48 + 1))[:n]
        text = '<tool_call>{"name": "Write", "arguments": {"file_path": "/x", "content": %s}}</tool_call>' % json.dumps(content)
        best = float("inf")
        for _ in range(3):
            s, start = Scanner(TOOLS), time.perf_counter()
            items = [item for i in range(0, len(text), 8) for item in s.feed(text[i:i + 8])] + s.flush()
            best = min(best, time.perf_counter() - start)
        assert items == [("call", "Write", {"file_path": "/x", "content": content})]
        return best

    small, large = cost(64_000), cost(1_024_000)
    assert large < 64 * small, (small, large)
