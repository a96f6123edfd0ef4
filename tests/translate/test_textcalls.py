"""Tool calls written as text, and <think> tags, become real blocks."""

import json
import time

import pytest

from freeclaude.translate.callformats import FORMATS
from freeclaude.translate.response import accumulate
from freeclaude.translate.stream import StreamTranslator
from freeclaude.translate.textcalls import _HEAD_MAX, Scanner
from tests.translate.textcall_corpus import samples, translate
from tests.translate.textcall_corpus import tools as offered

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
        text = ('<tool_call>{"name": "Write", "arguments": {"file_path": "/x", "content": '
                + json.dumps(content) + "}}</tool_call>")
        best = float("inf")
        for _ in range(3):
            s, start = Scanner(TOOLS), time.perf_counter()
            items = [item for i in range(0, len(text), 8) for item in s.feed(text[i:i + 8])] + s.flush()
            best = min(best, time.perf_counter() - start)
        assert items == [("call", "Write", {"file_path": "/x", "content": content})]
        return best

    small, large = cost(64_000), cost(1_024_000)
    assert large < 64 * small, (small, large)


# ---------------------------------------------------------------- every format, as it streams

CORPUS = {s["id"]: s for _, s in samples()}
LEADING = [s for _, s in samples() if "content" in s and len(s["expect"]) > 1 and s["expect"][0]["type"] == "text"
           and s["expect"][1]["type"] == "tool_use"]


@pytest.mark.parametrize("sample", LEADING, ids=[s["id"] for s in LEADING])
def test_text_before_a_call_streams_at_once(sample):
    """Fed a character at a time, every character of the text before a call is passed on by the
    time the call's markup begins: nothing of it waits for the call."""
    before = sample["expect"][0]["text"]
    s = Scanner(offered(sample))
    assert released(s, sample["content"][:len(before)]) == before


@pytest.mark.parametrize("opening", sorted({f.marker for f in FORMATS} | {"{", "[", "```json\n"}))
def test_an_opening_followed_by_prose_is_released_within_a_bounded_head(opening):
    """Whatever the marker, what follows it decides within _HEAD_MAX characters, and no more
    than that is ever held: prose that mentions a marker is not kept to the end of the answer."""
    s = Scanner({"Write": TOOLS["Write"], "get_weather": {}})
    prose = "\n" + opening + " x" * 400
    got, held = [], 0
    for ch in prose:
        got += s.feed(ch)
        held = max(held, len(s._buf))
    assert "".join(i[1] for i in got if i[0] == "text").startswith(prose[:len(prose) - _HEAD_MAX - 1])
    assert held <= _HEAD_MAX + 1


def test_a_call_in_reasoning_is_not_made():
    s = Scanner(TOOLS)
    text = '<think>\nI could write <tool_call>{"name": "Write", "arguments": {"file_path": "/x"}}</tool_call>.\n</think>Done.'
    assert scan(text, 3) == [
        ("think", 'I could write <tool_call>{"name": "Write", "arguments": {"file_path": "/x"}}</tool_call>.\n'),
        ("text", "Done.")]
    assert s.feed("<seed:think>a</seed:think>b") == [("think", "a"), ("text", "b")]


@pytest.mark.parametrize("sid", ["granite-bare-json", "m2.5-invoke", "quote-tokens", "no-opener-read"])
def test_a_name_not_offered_stays_text(sid):
    sample = dict(CORPUS[sid], tools=[{"name": "Other", "input_schema": {}}])
    assert translate(sample) == [{"type": "text", "text": sample["content"]}]


@pytest.mark.parametrize("sid", ["dsml-v4-read", "no-wrapper-no-closing-tags", "k2-arguments-quoted-string"])
def test_arguments_the_tool_would_refuse_stay_text(sid):
    sample = CORPUS[sid]
    closed = [dict(t, input_schema={**t["input_schema"], "required": ["not_written"]}) for t in sample["tools"]]
    got = translate(dict(sample, tools=closed))
    assert all(b["type"] != "tool_use" for b in got)
    assert "".join(b.get("text", "") for b in got) == sample["content"]


def test_a_name_differing_only_in_case_is_the_one_offered_tool():
    text = '<tool_call>{"name": "write", "arguments": {"file_path": "/x"}}</tool_call>'
    assert scan(text, 5) == [("call", "Write", {"file_path": "/x"})]
    both = {"Write": {}, "write": {}, "Read": {}}
    assert scan(text.replace('"write"', '"WRITE"'), 5, tools=both) == [("text", text.replace('"write"', '"WRITE"'))]


def test_a_code_block_is_never_a_call_even_when_a_bash_tool_exists():
    text = "Run this:\n```bash\n<function=Bash>\nls -la\n```\nthen tell me."
    assert scan(text, 2, tools={"Bash": {"type": "object", "properties": {"command": {"type": "string"}}}}) == [("text", text)]


def test_fenced_json_under_another_language_tag_is_a_call_when_it_names_an_offered_tool():
    text = 'Calling it:\n```xml\n{"name": "Write", "arguments": {"file_path": "/z"}}\n```'
    assert scan(text, 3) == [("text", "Calling it:\n"), ("call", "Write", {"file_path": "/z"})]


def test_blank_text_between_and_after_calls_makes_no_block():
    text = '<tool_call>{"name": "Write", "arguments": {"file_path": "/a"}}</tool_call>\n\n' \
           '<tool_call>{"name": "Write", "arguments": {"file_path": "/b"}}</tool_call>\n'
    assert scan(text, 4) == [("call", "Write", {"file_path": "/a"}), ("call", "Write", {"file_path": "/b"})]
    assert scan(text + "All done.", 4)[-1] == ("text", "\nAll done.")


@pytest.mark.parametrize("fmt,sid", [("qwen3_coder", "no-opener-read"), ("glm", "glm46-one-argument"),
                                     ("hermes json", "qwen-json-in-tool-call-mlx"), ("json", "granite-bare-json"),
                                     ("kimi", "k2-arguments-quoted-string")])
def test_a_quirk_turns_one_format_off(fmt, sid):
    sample = CORPUS[sid]
    # (a Hermes call's JSON body sits on a line of its own: off, it is read as bare JSON unless that is off too)
    tr = StreamTranslator(model="m", tools=offered(sample), text_call_formats_off=frozenset(fmt.split()))
    events = tr.feed({"choices": [{"delta": {"content": sample["content"]}, "finish_reason": "stop"}]}) + tr.finish(done=True)
    assert [b["type"] for b in accumulate(events)["content"]] == ["text"]
    others = StreamTranslator(model="m", tools=offered(sample), text_call_formats_off=frozenset({"gemma", "mistral"}))
    events = others.feed({"choices": [{"delta": {"content": sample["content"]},
                                       "finish_reason": "stop"}]}) + others.finish(done=True)
    assert "tool_use" in [b["type"] for b in accumulate(events)["content"]]


def _cost(make, n: int) -> float:
    text, expected = make(n)
    best = float("inf")
    for _ in range(3):
        s, start = Scanner(TOOLS), time.perf_counter()
        items = [item for i in range(0, len(text), 8) for item in s.feed(text[i:i + 8])] + s.flush()
        best = min(best, time.perf_counter() - start)
    assert items == expected
    return best


def _content(n: int) -> str:
    return ("line of code with <angle> [brackets] {braces} and `ticks`\n" * (n // 56 + 1))[:n]


def _json_line(n):  # ends where its braces balance
    content = _content(n)
    return "\n" + json.dumps({"name": "Write", "arguments": {"file_path": "/x", "content": content}}), \
        [("text", "\n"), ("call", "Write", {"file_path": "/x", "content": content})]


def _glm_unclosed(n):  # ends only with the stream
    content = _content(n).replace("<", "(")
    return ("<tool_call>Write\n<arg_key>file_path</arg_key><arg_value>/x</arg_value>\n"
            f"<arg_key>content</arg_key><arg_value>{content}"), [("call", "Write", {"file_path": "/x", "content": content})]


def _harmony(n):  # its end is one of three markers
    content = _content(n)
    return '<|channel|>commentary to=functions.Write <|constrain|>json<|message|>' + \
        json.dumps({"file_path": "/x", "content": content}) + "<|call|>", [("call", "Write",
                                                                            {"file_path": "/x", "content": content})]


@pytest.mark.parametrize("make", [_json_line, _glm_unclosed, _harmony], ids=["json", "glm", "harmony"])
def test_every_kind_of_end_costs_time_in_proportion_to_the_call(make):
    small, large = _cost(make, 32_000), _cost(make, 512_000)
    assert large < 64 * small, (small, large)


def test_a_whole_answer_in_one_piece_costs_time_in_proportion_to_its_length():
    """An answer asked for whole comes as one piece: prose full of openings that decide prose
    (angle brackets, marker mentions, brackets and braces at line starts) must not be searched
    again from each of them."""
    units = [("if a < b and <function=x> or <|channel|> say it, then <tool_call> is a tag; [link](u) `y` ", '\n{"k": 1}'),
             ('\n{"k": 1}\n[1, 2]\n{x}', " then <tool_call> is a tag")]

    def cost(n: int) -> float:
        text = "".join((body * (n // 2 // len(body) + 1))[:n // 2] + end for body, end in units)
        best = float("inf")
        for _ in range(3):
            s, start = Scanner({**TOOLS, "get_weather": {}}), time.perf_counter()
            items = s.feed(text) + s.flush()
            best = min(best, time.perf_counter() - start)
        assert "".join(i[1] for i in items) == text
        return best

    small, large = cost(16_000), cost(256_000)
    assert large < 64 * small, (small, large)
