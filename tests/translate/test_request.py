"""Anthropic request -> OpenAI request: one case per rule."""

import base64
import json
import zlib

import pytest

from freeclaude.profiles.providers import Model, Quirks
from freeclaude.translate import state
from freeclaude.translate.passthrough import fold_system
from freeclaude.translate.request import DUMMY_THOUGHT_SIGNATURE, reasoning_effort, strip_billing, to_openai
from freeclaude.translate.schema import clean_schema
from freeclaude.translate.tools import ToolNames
from freeclaude.translate.validate import InvalidRequest, validate

MODEL = Model(name="up-model", provider="p", context_window=32768, max_output_tokens=8192)


def translate(body: dict, quirks: Quirks | None = None, names: ToolNames | None = None, stream: bool = False) -> dict:
    model = Model(name="up-model", provider="p", quirks=quirks or Quirks())
    base = {"model": "claude-opus-5-5", "max_tokens": 100}
    return to_openai({**base, **body}, model, names or ToolNames(), stream=stream, max_tokens=100)


def msgs(body: dict, **kw) -> list[dict]:
    return translate(body, **kw)["messages"]


CASES = [
    (
        "system string",
        {"system": "be brief", "messages": [{"role": "user", "content": "hi"}]},
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    ),
    (
        "system blocks joined, billing line stripped",
        {"system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1; cch=1234;"},
                    {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "Rules."}],
         "messages": [{"role": "user", "content": "hi"}]},
        [{"role": "system", "content": "You are Claude Code.\n\nRules."}, {"role": "user", "content": "hi"}],
    ),
    (
        "text blocks become one string",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
                                                   {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}]}]},
        [{"role": "user", "content": "a\n\nb"}],
    ),
    (
        "mid-conversation system folds into the user turn",
        {"messages": [{"role": "user", "content": "write hello.txt"},
                      {"role": "system", "content": [{"type": "text", "text": "env info"}],
                       "output_config": {"effort": "medium"}}]},
        [{"role": "user", "content": "write hello.txt\n\n<system-reminder>\nenv info\n</system-reminder>"}],
    ),
    (
        "image base64 and url",
        {"messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
            {"type": "text", "text": "what is this"}]}]},
        [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            {"type": "text", "text": "what is this"}]}],
    ),
    (
        "text document inline, PDF as a placeholder",
        {"messages": [{"role": "user", "content": [
            {"type": "document", "title": "notes", "source": {"type": "text", "media_type": "text/plain", "data": "n1"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}]}]},
        [{"role": "user", "content": '<document title="notes">\nn1\n</document>\n\n'
                                     "[document 'document' (application/pdf) not included: "
                                     "this model cannot read application/pdf files]"}],
    ),
    (
        "tool_use and tool_result round trip",
        {"messages": [
            {"role": "user", "content": "write it"},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"},
                                              {"type": "tool_use", "id": "toolu_01", "name": "Write",
                                               "input": {"file_path": "/a"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "done"}]}]},
        [{"role": "user", "content": "write it"},
         {"role": "assistant", "content": "ok", "tool_calls": [
             {"id": "toolu_01", "type": "function", "function": {"name": "Write", "arguments": '{"file_path": "/a"}'}}]},
         {"role": "tool", "tool_call_id": "toolu_01", "content": "done"}],
    ),
    (
        "tool_result blocks, is_error stated, images carried in a user message",
        {"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": [
                    {"type": "text", "text": "no such file"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QQ"}}]},
                {"type": "text", "text": "try again"}]}]},
        [{"role": "assistant", "content": None, "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "Read", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "t1", "content": "Tool error: no such file"},
         {"role": "user", "content": [
             {"type": "text", "text": "[images returned by tool call t1]"},
             {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QQ"}},
             {"type": "text", "text": "try again"}]}],
    ),
    (
        "thinking and redacted_thinking in history are dropped",
        {"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"},
                                              {"type": "redacted_thinking", "data": "xx"},
                                              {"type": "text", "text": "a"}]},
            {"role": "user", "content": "q2"}]},
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}],
    ),
    (
        "a call without a result gets a stub; a result without a call becomes text",
        {"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "X", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "zzz", "content": "orphan"}]}]},
        [{"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "X", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "a", "content": "[no result was recorded for this call]"},
         {"role": "user", "content": "[result of tool call zzz]\norphan"}],
    ),
    (
        "tool ids are made safe the same way in calls and results",
        {"messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "functions.Write:0", "name": "Write", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "functions.Write:0", "content": "ok"}]}]},
        [{"role": "assistant", "content": None, "tool_calls": [
            {"id": "functions_Write_0", "type": "function", "function": {"name": "Write", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "functions_Write_0", "content": "ok"}],
    ),
]


@pytest.mark.parametrize("name,body,expected", CASES, ids=[c[0] for c in CASES])
def test_messages(name, body, expected):
    assert msgs(body) == expected


def test_mid_conversation_system_kept_where_the_provider_accepts_it():
    body = {"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "env"}]}
    assert msgs(body, quirks=Quirks(merge_system=False)) == [
        {"role": "user", "content": "hi"}, {"role": "system", "content": "env"}]


def test_reminder_after_a_tool_call_waits_for_the_results():
    body = {"messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "X", "input": {}}]},
        {"role": "system", "content": "late news"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "r"}]}]}
    roles = [m["role"] for m in msgs(body)]
    assert roles == ["assistant", "tool", "user"]


def test_thinking_replayed_as_reasoning_content():
    body = {"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "plan", "signature": "s"},
                                          {"type": "tool_use", "id": "t", "name": "X", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]}]}
    assistant = msgs(body, quirks=Quirks(replay_reasoning=True))[1]
    assert assistant["reasoning_content"] == "plan"


def test_tools_schema_unknown_fields_dropped_and_server_tools_removed():
    body = {"messages": [{"role": "user", "content": "hi"}], "tools": [
        {"name": "Write", "description": "writes", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
         "cache_control": {"type": "ephemeral"}},
        {"name": "Deferred", "input_schema": {"type": "object"}, "defer_loading": True},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ]}
    out = translate(body)
    assert out["tools"] == [
        {"type": "function", "function": {"name": "Write", "description": "writes",
                                          "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "Deferred", "parameters": {"type": "object"}}},
    ]


def test_long_tool_names_are_shortened_and_mapped_back():
    long = "mcp__" + "very_long_server_name_" * 4 + "tool"
    names = ToolNames()
    body = {"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": long, "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]}],
        "tools": [{"name": long, "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": long}}
    out = translate(body, names=names)
    short = out["tools"][0]["function"]["name"]
    assert len(short) <= 64 and short != long
    assert out["messages"][1]["tool_calls"][0]["function"]["name"] == short
    assert out["tool_choice"] == {"type": "function", "function": {"name": short}}
    assert names.down(short) == long
    assert names.up(long) == short  # stable across requests


@pytest.mark.parametrize("choice,expected", [
    ({"type": "auto"}, "auto"),
    ({"type": "any"}, "required"),
    ({"type": "none"}, "none"),
    ({"type": "tool", "name": "Write"}, {"type": "function", "function": {"name": "Write"}}),
])
def test_tool_choice(choice, expected):
    body = {"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "Write", "input_schema": {"type": "object"}}],
            "tool_choice": choice}
    assert translate(body)["tool_choice"] == expected


def test_disable_parallel_tool_use():
    body = {"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "W", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}
    assert translate(body)["parallel_tool_calls"] is False


def test_sampling_stop_and_limits():
    body = {"messages": [{"role": "user", "content": "x"}], "temperature": 0.2, "top_p": 0.9, "top_k": 5,
            "stop_sequences": ["a", "b", "c", "d", "e"], "metadata": {"user_id": "secret-device"}}
    out = translate(body, stream=True)
    assert out["temperature"] == 0.2 and out["top_p"] == 0.9
    assert out["stop"] == ["a", "b", "c", "d"]
    assert "top_k" not in out and "metadata" not in json.dumps(out) and "secret-device" not in json.dumps(out)
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    assert out["max_tokens"] == 100


def test_model_temperature_is_used_only_when_the_client_sends_none():
    model = Model(name="up-model", provider="p", temperature=0.3)
    plain = {"messages": [{"role": "user", "content": "x"}]}
    assert to_openai(plain, model, ToolNames(), stream=False, max_tokens=100)["temperature"] == 0.3
    assert to_openai({**plain, "temperature": 0}, model, ToolNames(), stream=False, max_tokens=100)["temperature"] == 0
    assert "temperature" not in translate(plain)


def test_max_tokens_field_and_stream_options_quirks():
    out = translate({"messages": [{"role": "user", "content": "x"}]},
                    quirks=Quirks(max_tokens_field="max_completion_tokens", stream_options=False), stream=True)
    assert out["max_completion_tokens"] == 100 and "max_tokens" not in out
    assert "stream_options" not in out


@pytest.mark.parametrize("body,expected", [
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, "medium"),
    ({"output_config": {"effort": "max"}}, "high"),
    ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "low"),
    ({"thinking": {"type": "enabled", "budget_tokens": 32000}}, "high"),
    ({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}, None),
    ({}, None),
])
def test_reasoning_effort(body, expected):
    assert reasoning_effort(body) == expected


def test_reasoning_effort_only_where_supported():
    body = {"messages": [{"role": "user", "content": "x"}], "output_config": {"effort": "low"}}
    assert "reasoning_effort" not in translate(body)
    assert translate(body, quirks=Quirks(reasoning_effort=True))["reasoning_effort"] == "low"


def test_gemini_schema_cleaning():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": False,
              "properties": {"url": {"type": "string", "format": "uri"}, "when": {"type": "string", "format": "date-time"},
                             "mode": {"const": "fast"}, "n": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                             "tags": {"type": "array", "items": {"type": "string", "propertyNames": {}}}},
              "required": ["url"]}
    assert clean_schema(schema) == {
        "type": "object",
        "properties": {"url": {"type": "string"}, "when": {"type": "string", "format": "date-time"},
                       "mode": {"enum": ["fast"]}, "n": {"type": "integer", "nullable": True},
                       "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["url"]}


def test_strip_billing_string_and_blocks():
    assert strip_billing("x-anthropic-billing-header: a") == ""
    assert strip_billing("hello") == "hello"
    assert strip_billing([{"type": "text", "text": "x-anthropic-billing-header: a"}, {"type": "text", "text": "b"}]) == [
        {"type": "text", "text": "b"}]


@pytest.mark.parametrize("body,field", [
    ([], "body"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "m", "max_tokens": 5, "messages": []}, "messages"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]}, "messages.0.role"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"text": "x"}]}]}, "messages.0.content.0.type"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "tools": [{"name": ""}]}, "tools.0.name"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "maybe"}},
     "tool_choice.type"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "document", "source": "a.txt"}]}]},
     "messages.0.content.0.source"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "content", "content": [5]}}]}]}, "messages.0.content.0.source.content.0.type"),
])
def test_validation_names_the_field(body, field):
    with pytest.raises(InvalidRequest) as e:
        validate(body)
    assert str(e.value).startswith(field + ":")


def test_real_claude_code_requests_translate(wire_requests):
    for request in wire_requests:
        body = request["body"]
        validate(body)
        out = to_openai(body, MODEL, ToolNames(), stream=True, max_tokens=8192)
        roles = [m["role"] for m in out["messages"]]
        assert roles[0] == "system" and "system" not in roles[1:]
        assert len(out["tools"]) == len(body["tools"])
        assert all("defer_loading" not in json.dumps(t) and "cache_control" not in json.dumps(t) for t in out["tools"])
        json.dumps(out)


def test_fold_system_for_messages_api_upstreams():
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "env"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "X", "input": {}}]},
        {"role": "system", "content": "late"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]},
    ]
    out = fold_system(messages)
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[0]["content"][1]["text"] == "<system-reminder>\nenv\n</system-reminder>"
    # the late reminder follows the tool result, which must come first in its turn
    assert [b["type"] for b in out[2]["content"]] == ["tool_result", "text"]


# ---------------------------------------------------------------- state restored on the way up


def turn_with(thinking: dict, tool_id: str = "t") -> dict:
    return {"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [thinking, {"type": "tool_use", "id": tool_id, "name": "X", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": "r"}]}]}


def test_omitted_thinking_replays_the_reasoning_its_signature_carries():
    # Claude Code asked for display "omitted": the block comes back empty, the signature does not.
    body = turn_with({"type": "thinking", "thinking": "", "signature": state.seal("nim", "plan A")})
    assert msgs(body, quirks=Quirks(replay_reasoning=True))[1]["reasoning_content"] == "plan A"
    assert "reasoning_content" not in msgs(body)[1]  # only where the provider takes it


def test_reasoning_details_go_back_unchanged_to_the_provider_that_wrote_them():
    details = [{"type": "reasoning.encrypted", "data": "opaque", "id": "r1", "format": "f", "index": 0}]
    body = turn_with({"type": "thinking", "thinking": "x", "signature": state.seal("p", "x", details)})
    assert msgs(body, quirks=Quirks(reasoning_details=True))[1]["reasoning_details"] == details
    other = turn_with({"type": "thinking", "thinking": "x", "signature": state.seal("elsewhere", "x", details)})
    assert "reasoning_details" not in msgs(other, quirks=Quirks(reasoning_details=True))[1]


def test_thought_signature_restored_from_the_tool_use_id():
    body = turn_with({"type": "text", "text": "calling"}, tool_id=state.with_signature("fc-1", "sig/+=="))
    out = msgs(body, quirks=Quirks(thought_signatures=True))
    assert out[1]["tool_calls"][0]["id"] == "fc-1"
    assert out[1]["tool_calls"][0]["extra_content"] == {"google": {"thought_signature": "sig/+=="}}
    assert out[2] == {"role": "tool", "tool_call_id": "fc-1", "content": "r"}
    assert "extra_content" not in msgs(body)[1]["tool_calls"][0]


def test_a_tool_call_gemini_never_signed_gets_the_documented_stand_in():
    out = msgs(turn_with({"type": "text", "text": "from another model"}), quirks=Quirks(thought_signatures=True))
    assert out[1]["tool_calls"][0]["extra_content"]["google"]["thought_signature"] == DUMMY_THOUGHT_SIGNATURE


def test_user_text_after_a_tool_result_joins_it_where_the_provider_refuses_the_order():
    body = {"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "X", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"},
                                     {"type": "text", "text": "<system-reminder>x</system-reminder>"}]}]}
    assert [m["role"] for m in msgs(body)] == ["user", "assistant", "tool", "user"]
    out = msgs(body, quirks=Quirks(user_after_tool=False))
    assert [m["role"] for m in out] == ["user", "assistant", "tool"]
    assert out[2]["content"] == "r\n\n<system-reminder>x</system-reminder>"


def test_extra_body_and_parallel_tool_calls_quirk():
    model = Model(name="m", provider="p", extra_body={"chat_template_kwargs": {"thinking": True}},
                  quirks=Quirks(parallel_tool_calls=False))
    body = {"model": "x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "A", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}
    out = to_openai(body, model, ToolNames(), stream=False, max_tokens=10)
    assert out["chat_template_kwargs"] == {"thinking": True} and "parallel_tool_calls" not in out


def test_thinking_of_the_wrong_type_replays_nothing_of_it():
    raw = zlib.compress(json.dumps({"p": "p", "r": 5, "d": "x"}).encode())
    forged = state.PREFIX + base64.urlsafe_b64encode(raw).decode()
    for block in ({"type": "thinking", "thinking": 7, "signature": "EqQB"},
                  {"type": "thinking", "thinking": "", "signature": forged}):
        assistant = msgs(turn_with(block), quirks=Quirks(replay_reasoning=True, reasoning_details=True))[1]
        assert "reasoning_content" not in assistant and "reasoning_details" not in assistant
