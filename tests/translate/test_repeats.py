"""A line that repeats the last text chunk but for its text is read without parsing it, and
gives exactly what parsing it would: checked against json.loads on every kind of line."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from freeclaude.translate.repeats import GIVE_UP, Repeats
from freeclaude.translate.stream import StreamTranslator

HEAD = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 17, "model": "m"}


def line(content=None, *, finish=None, spaced=False, ascii_only=False, **extra) -> str:
    delta = {} if content is None else {"content": content}
    chunk = {**HEAD, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return json.dumps(chunk, separators=None if spaced else (",", ":"), ensure_ascii=ascii_only)


def both(lines: list[str]) -> tuple[list, list, int]:
    """Events through the fast path and through json.loads alone, and how often the fast path read."""
    fast, slow = (StreamTranslator(model="x", tools={}, message_id="msg_1") for _ in range(2))
    repeats, hits, got, want = Repeats(), 0, [], []
    for data in lines:
        text = repeats.text(data)
        if text is not None:
            hits += 1
            got += fast.feed_text(text)
        else:
            obj = json.loads(data)
            got += fast.feed(obj)
            repeats.learn(data, obj)
        want += slow.feed(json.loads(data))
    return got, want, hits


def test_an_openai_stream_is_read_line_by_line_after_its_first_text():
    lines = [line("", role="x"), *(line(f"tok{i} ") for i in range(10)), line(finish="stop")]
    got, want, hits = both(lines)
    assert got == want and hits == 9


def test_escapes_and_spacing_as_servers_write_them():
    for kw in ({}, {"spaced": True}, {"ascii_only": True}):
        lines = [line(t, **kw) for t in ("a", 'q"uote', "back\\slash", "new\nline", "é 𝄞 ☃", "\u2028", "x")]
        got, want, hits = both(lines)
        assert got == want and hits == len(lines) - 1, kw


def test_a_line_that_differs_elsewhere_is_parsed():
    lines = [line("a"), line("b", created=18), line("c", usage={"prompt_tokens": 1, "completion_tokens": 1}),
             line("d", finish="stop"), json.dumps({**HEAD, "choices": [{"index": 0, "delta": {"content": "e"},
                                                                       "finish_reason": None}]}) + " "]
    got, want, hits = both(lines)
    assert got == want and hits == 0


def test_text_that_looks_like_the_key_or_a_string_end():
    lines = [line(t) for t in ('"content":"', '","finish_reason":"stop"}]}', '\\"content\\":', "ok")]
    got, want, hits = both(lines)
    assert got == want and hits == 3


def test_a_server_that_varies_every_line_is_given_up_on():
    repeats = Repeats()
    for i in range(GIVE_UP + 3):
        data = line(f"t{i}", created=i)
        assert repeats.text(data) is None
        repeats.learn(data, json.loads(data))
    assert repeats._prefix is None  # no more layouts learnt, no more looking


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.text()), st.sampled_from([None, "stop"]), st.booleans(),
                          st.booleans(), st.integers(0, 2)), max_size=12))
def test_the_fast_path_equals_parsing(specs):
    lines = [line(content, finish=finish, spaced=spaced, ascii_only=asc, created=created)
             for content, finish, spaced, asc, created in specs]
    got, want, _ = both(lines)
    assert got == want
