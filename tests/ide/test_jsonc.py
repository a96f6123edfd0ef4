"""The JSON-with-comments editor: reads what VS Code's settings.json may hold, and changes one
top-level member without moving any other byte."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freeclaude.ide import jsonc

# What VS Code's user settings can look like (JSON with comments: // and /* */, trailing commas).
FILES = {
    "empty": "",
    "blank": "  \n\n",
    "only comments": "// my settings\n/* none yet */\n",
    "empty object": "{}",
    "empty object, two lines": "{\n}\n",
    "one line": '{"editor.fontSize": 14}',
    "plain": '{\n  "editor.fontSize": 14,\n  "files.autoSave": "off"\n}\n',
    "tabs and trailing comma": '{\n\t"a": 1,\n\t"b": [1, 2,],\n}\n',
    "comments everywhere": ('// head\n{ // after the brace\n    /* before a */ "a": 1, // after a\n'
                            '    "b": /* inside */ {"x": [1, /* two */ 2]},\n    // before c\n    "c": "z" // last\n}\n'),
    "strings that look like structure": ('{\n  "url": "http://example.com/*not a comment*/",\n'
                                         '  "braces": "} { ] [ , :",\n  "quote\\"key": "a \\"quoted\\" \\\\ value // no",\n'
                                         '  "slashes": "//not/a/comment"\n}\n'),
    "crlf": '{\r\n  "a": 1,\r\n  "b": 2\r\n}\r\n',
    "comment after the last member": '{\n  "a": 1 // the only one\n}\n',
    "nested settings": '{\n  "[python]": {\n    "editor.tabSize": 4,\n  },\n  "x": null\n}\n',
}


def plain(text: str):
    return jsonc.loads(text)


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_file_parses(name):
    data = jsonc.loads(FILES[name])
    assert isinstance(data, dict)


def test_what_the_parser_reads():
    assert jsonc.loads(FILES["comments everywhere"]) == {"a": 1, "b": {"x": [1, 2]}, "c": "z"}
    assert jsonc.loads(FILES["tabs and trailing comma"]) == {"a": 1, "b": [1, 2]}
    data = jsonc.loads(FILES["strings that look like structure"])
    assert data["url"] == "http://example.com/*not a comment*/" and data["quote\"key"] == 'a "quoted" \\ value // no'
    assert data["slashes"] == "//not/a/comment" and data["braces"] == "} { ] [ , :"


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("value", [True, "http://127.0.0.1:24817/", [{"name": "A", "value": "1 // x"}], {"k": "}"}])
def test_a_new_member_comes_and_goes_leaving_every_other_byte(name, value):
    text = FILES[name]
    added = jsonc.set_member(text, "claudeCode.new", value)
    assert plain(added) == {**plain(text), "claudeCode.new": value}
    removed = jsonc.remove_member(added, "claudeCode.new")
    if name == "empty object":
        assert removed == "{\n}"  # a member was given a line of its own; taking it out leaves the line break
    elif text.strip() and jsonc.top(text) is not None:
        assert removed == text
        assert all(line in added for line in text.splitlines() if line.strip().startswith("//"))


@pytest.mark.parametrize("name", ["plain", "comments everywhere", "strings that look like structure", "crlf",
                                  "comment after the last member", "nested settings", "tabs and trailing comma"])
def test_replacing_a_value_touches_only_that_value(name):
    text = FILES[name]
    key = next(iter(plain(text)))
    changed = jsonc.set_member(text, key, {"new": [1, 2]})
    assert plain(changed) == {**plain(text), key: {"new": [1, 2]}}
    member = jsonc.top(text).find(key)
    assert changed.startswith(text[:member.value_start])
    assert changed.endswith(text[member.value_end:])


def test_removing_each_member_keeps_the_rest_valid():
    for name, text in FILES.items():
        for key in plain(text):
            out = jsonc.remove_member(text, key)
            expected = {k: v for k, v in plain(text).items() if k != key}
            assert plain(out) == expected, (name, key, out)
            if _is_plain_json(text):
                assert json.loads(out) == expected, (name, key, out)  # plain JSON stays plain JSON


def _is_plain_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_removing_the_last_member_of_plain_json_leaves_no_trailing_comma():
    assert jsonc.remove_member('{\n  "a": 1,\n  "b": 2\n}\n', "b") == '{\n  "a": 1\n}\n'
    # a comment on the line of the comma stays
    assert jsonc.remove_member('{\n  "a": 1, // about a\n  "b": 2\n}\n', "b") == '{\n  "a": 1 // about a\n}\n'


def test_layout_follows_the_file():
    tabbed = jsonc.set_member('{\n\t"a": 1\n}\n', "env", {"X": "1"})
    assert tabbed == '{\n\t"env": {\n\t\t"X": "1"\n\t},\n\t"a": 1\n}\n'
    crlf = jsonc.set_member(FILES["crlf"], "env", {"X": "1"})
    assert "\n" not in crlf.replace("\r\n", "")
    assert jsonc.set_member("", "k", True, "    ") == '{\n    "k": true\n}\n'
    assert jsonc.set_member("// mine\n", "k", 1) == '// mine\n{\n  "k": 1\n}\n'
    assert jsonc.set_member("{}", "k", 1) == '{\n  "k": 1\n}'


def test_duplicate_keys_edit_the_one_parsers_keep():
    text = '{\n  "a": 1,\n  "a": 2\n}\n'
    assert jsonc.loads(jsonc.set_member(text, "a", 3)) == {"a": 3}
    assert jsonc.set_member(text, "a", 3) == '{\n  "a": 1,\n  "a": 3\n}\n'


@pytest.mark.parametrize("text, error", [
    ("[1, 2]", "not a JSON object"),
    ('{"a": 1', "a ',' or '}' is expected"),
    ('{"a": 1} x', "text follows"),
    ('{"a": /* never closed', "never closed"),
    ('{"a": "never closed', "never closed"),
    ('{a: 1}', "a key is expected"),
    ('{"a" 1}', "a ':' is expected"),
    ('{"a": }', "a value is missing"),
    ('{"a": [1, 2}', "closes what it did not open"),
    ('{"a": [1, 2]', "a ',' or '}' is expected"),
])
def test_malformed_files_are_refused_with_a_line(text, error):
    with pytest.raises(jsonc.JsoncError, match=error):
        jsonc.top(text)


def test_parse_errors_point_at_the_files_own_line():
    with pytest.raises(jsonc.JsoncError, match="line 3"):
        jsonc.loads('// one\n/* two */ {"a": 1,\n "b": }\n')


keys = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=8)
noise = st.sampled_from(["", " ", "\n", "\t", " // c{\"]\n", "/* ,} */", "\n  // x'\n"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, values, max_size=5), st.lists(noise, min_size=12, max_size=12), st.booleans(), values)
def test_any_settings_file_round_trips(data, gaps, trailing, value):
    """Files laid out with comments and whitespace between every token: adding a member and
    removing it again gives back the very same text; the parser reads what json wrote."""
    parts, g = ["{"], iter(gaps * 10)
    for i, (k, v) in enumerate(data.items()):
        parts += [next(g), json.dumps(k), next(g), ":", next(g), json.dumps(v), next(g)]
        if i < len(data) - 1 or trailing:
            parts.append(",")
    parts += [next(g), "}", "\n"]
    text = "".join(parts)
    assert jsonc.loads(text) == data
    key = "\u2603 new key" if "\u2603 new key" not in data else "another"
    added = jsonc.set_member(text, key, value)
    assert jsonc.loads(added) == {**data, key: value}
    if _is_plain_json(text):  # what Claude Code's own settings must stay
        assert json.loads(added) == {**data, key: value}
    removed = jsonc.remove_member(added, key)
    if not data and "\n" not in text[:text.rindex("}")]:
        assert jsonc.loads(removed) == {}  # {} gave the member lines of its own: a line break stays
    else:
        assert removed == text
