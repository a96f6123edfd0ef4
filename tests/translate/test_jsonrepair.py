"""Tool-call arguments: repaired while streaming, never silently emptied."""

import json

import pytest

from freeclaude.translate.jsonrepair import INVALID_KEY, Args


def repair(text: str, step: int | None = None) -> tuple[dict, Args]:
    args = Args()
    pieces = [text] if step is None else [text[i:i + step] for i in range(0, len(text), step)]
    out = "".join(args.feed(p) for p in pieces) + args.finish()
    return json.loads(out), args


REPAIRS = [
    ("valid", '{"a": 1, "b": [true, null, "x"]}', {"a": 1, "b": [True, None, "x"]}),
    ("trailing commas", '{"a": 1, "b": [1, 2,], }', {"a": 1, "b": [1, 2]}),
    ("single quotes", "{'path': '/x', 'text': 'it\\'s \"quoted\"'}", {"path": "/x", "text": 'it\'s "quoted"'}),
    ("python literals", '{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}),
    ("bare keys", '{path: "/x", n: 2}', {"path": "/x", "n": 2}),
    ("missing closing braces", '{"a": {"b": [1, "two', {"a": {"b": [1, "two"]}}),
    ("missing value", '{"a": 1, "b":', {"a": 1, "b": None}),
    ("raw newline and tab in a string", '{"code": "def f():\n\treturn 1"}', {"code": "def f():\n\treturn 1"}),
    ("unescaped inner quotes", '{"content": "say "hi" now", "n": 1}', {"content": 'say "hi" now', "n": 1}),
    ("missing comma between lines", '{"a": "x"\n "b": 2}', {"a": "x", "b": 2}),
    ("unknown escape kept literally", '{"re": "\\d+"}', {"re": "\\d+"}),
    ("code fence", '```json\n{"a": 1}\n```', {"a": 1}),
    ("JSON string holding the object", json.dumps(json.dumps({"a": 1})), {"a": 1}),
    ("prose before the object", 'Here you go: {"a": 1}', {"a": 1}),
    ("numbers written loosely", '{"a": 01, "b": .5, "c": -2e3}', {"a": 1, "b": 0.5, "c": -2000.0}),
    ("trailing text after the object", '{"a": 1}\n```', {"a": 1}),
    ("unicode", '{"t": "héllo ☃ \\u00e9"}', {"t": "héllo ☃ é"}),
    ("empty means no arguments", "", {}),
]


@pytest.mark.parametrize("name,text,expected", REPAIRS, ids=[r[0] for r in REPAIRS])
@pytest.mark.parametrize("step", [None, 1, 3])
def test_repairs(name, text, expected, step):
    value, args = repair(text, step)
    assert value == expected
    assert not args.broken
    assert args.repaired == (name not in ("valid", "unicode", "empty means no arguments"))


def test_valid_arguments_stream_through_as_they_come():
    args = Args()
    assert args.feed('{"file_path": "/a", "con') == '{"file_path":"/a","con'
    assert args.feed('tent": "hel') == 'tent":"hel'
    assert args.feed('lo"}') == 'lo"}'
    assert args.finish() == ""


def test_a_comma_is_held_until_the_next_member_shows_it_is_not_trailing():
    args = Args()
    assert args.feed('{"a": 1,') == '{"a":1'
    assert args.feed(' "b"') == ',"b'  # the closing quote waits: it might be an unescaped inner one


@pytest.mark.parametrize("text", ['{"a": 1 "b" xyz}', '{"path": "/tmp/a", "content": "abc", "n": @}', '{"a": [1, }'])
def test_unrepairable_is_reported_and_nulls_what_was_sent(text):
    value, args = repair(text)
    assert args.broken
    assert value[INVALID_KEY]["raw"] == text and "not valid JSON" in value[INVALID_KEY]["error"]
    # keys already streamed are overridden with null, so the tool cannot run on half its input
    assert all(v is None for k, v in value.items() if k != INVALID_KEY)


def test_not_an_object_is_reported():
    value, args = repair("I will call the tool now")
    assert value == {INVALID_KEY: {"error": "the model's arguments were not a JSON object", "raw": "I will call the tool now"}}


def test_cut_arguments_are_not_closed_as_if_complete():
    args = Args()
    sent = args.feed('{"file_path": "/a", "content": "half of the fi')
    args.cut("the answer reached max_tokens inside the arguments")
    value = json.loads(sent + args.finish())
    assert value["file_path"] is None and value["content"] is None
    assert "max_tokens" in value[INVALID_KEY]["error"]


def test_cut_after_a_complete_object_changes_nothing():
    args = Args()
    sent = args.feed('{"a": 1}')
    args.cut("reason")
    assert json.loads(sent + args.finish()) == {"a": 1}


def test_many_escapes_in_one_fragment():
    """A whole Write call in one delta (Groq, Ollama): thousands of escapes, no recursion."""
    content = 'print("x")\n\t' * 5000
    text = json.dumps({"file_path": "/a.py", "content": content})
    value, args = repair(text)
    assert value["content"] == content and not args.repaired
