"""Arguments of calls read from text, against the tool's input_schema: only what the tool takes,
and only the coercions the schema makes unambiguous."""

import pytest

from freeclaude.translate.argcheck import check

# Claude Code's Read and Bash, as its requests declare them (tests/wire), and a TodoWrite-like array
READ = {"type": "object", "properties": {"file_path": {"type": "string"}, "offset": {"type": "integer"},
                                         "limit": {"type": "integer"}}, "required": ["file_path"],
        "additionalProperties": False}
BASH = {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"},
                                         "run_in_background": {"type": "boolean"}}, "required": ["command"]}
TODO = {"type": "object", "properties": {"todos": {"type": "array"}}, "required": ["todos"]}
ENUM = {"type": "object", "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}
NULLABLE = {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}}


@pytest.mark.parametrize("schema,args,taken", [
    (READ, {"file_path": "/x"}, {"file_path": "/x"}),
    (READ, {"file_path": "/x", "offset": "357", "limit": "15"}, {"file_path": "/x", "offset": 357, "limit": 15}),
    (BASH, {"command": "ls", "timeout": "1.5", "run_in_background": "false"},
     {"command": "ls", "timeout": 1.5, "run_in_background": False}),
    (BASH, {"command": "ls", "timeout": 12000}, {"command": "ls", "timeout": 12000}),
    (TODO, {"todos": '[{"id": "a", "status": "pending"}]'}, {"todos": [{"id": "a", "status": "pending"}]}),
    (ENUM, {"unit": "celsius"}, {"unit": "celsius"}),
    (NULLABLE, {"n": "null"}, {"n": None}),
    (NULLABLE, {"n": 3.0}, {"n": 3}),
    ({}, {"anything": [1]}, {"anything": [1]}),  # a tool without a schema takes any object
    (BASH, {"command": "ls", "extra": 1}, {"command": "ls", "extra": 1}),  # open schemas take more keys
])
def test_what_the_tool_takes(schema, args, taken):
    assert check(args, schema) == taken


@pytest.mark.parametrize("schema,args", [
    (READ, {"offset": 1}),  # the required file_path is missing
    (READ, {"file_path": "/x", "pages": "1"}),  # a key the schema closes out
    (READ, {"file_path": "/x", "offset": "ten"}),  # not a number at all
    (READ, {"file_path": "/x", "offset": "1.5"}),  # a number, but not an integer
    (READ, {"file_path": 7}),  # a number where a string is wanted: which text? not ours to guess
    (BASH, {"command": "ls", "run_in_background": "yes"}),
    (TODO, {"todos": "[not json"}),
    (TODO, {"todos": '{"id": "a"}'}),  # an object serialized where an array is wanted
    (ENUM, {"unit": "kelvin"}),
    (READ, ["not", "an", "object"]),
])
def test_what_the_tool_would_refuse(schema, args):
    assert check(args, schema) is None
