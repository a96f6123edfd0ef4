"""OpenAI stream chunks -> Anthropic events: one case per quirk in DESIGN."""

import json
import re

import pytest

from freeclaude.translate import state
from freeclaude.translate.response import accumulate
from freeclaude.translate.stream import IncompleteStream, StreamTranslator, UpstreamStreamError
from freeclaude.translate.tools import ToolNames
from tests.support.fakes import call, chunk

TOOLS = {"Write": {"type": "object", "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}}},
         "Read": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
DELTA_FOR = {"text": "text_delta", "thinking": ("thinking_delta", "signature_delta"), "tool_use": "input_json_delta"}


def run(chunks, done=True, **kw) -> list:
    tr = StreamTranslator(model="claude-opus-5-5", input_estimate=10, tools=TOOLS, **kw)
    events = []
    for c in chunks:
        events += tr.feed(c)
    events += tr.finish(done=done)
    check_grammar(events)
    return events


def check_grammar(events) -> None:
    """The order an Anthropic client relies on."""
    names = [e[0] for e in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    open_index, expected = None, 0
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None and data["index"] == expected
            open_index, kind = data["index"], data["content_block"]["type"]
        elif name == "content_block_delta":
            assert data["index"] == open_index
            allowed = DELTA_FOR[kind]
            assert data["delta"]["type"] in (allowed if isinstance(allowed, tuple) else (allowed,))
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index, expected = None, expected + 1
        else:
            raise AssertionError(f"unexpected {name}")
    assert open_index is None


def message(chunks, **kw) -> dict:
    return accumulate(run(chunks, **kw))


def tool_blocks(msg):
    return [b for b in msg["content"] if b["type"] == "tool_use"]


WRITE_ARGS = {"file_path": "/tmp/hello.txt", "content": "hello\n"}
WRITE_JSON = json.dumps(WRITE_ARGS)

# Each upstream shape must give the SDK the same tool_use block.
TOOL_SHAPES = {
    "fragments (OpenAI, llama.cpp)": [
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [call(0, "call_1", "Write", "")]}),
        *[chunk({"tool_calls": [call(0, args=WRITE_JSON[i:i + 7])]}) for i in range(0, len(WRITE_JSON), 7)],
        chunk(finish="tool_calls"),
    ],
    "whole in one delta (Groq, Ollama)": [
        chunk({"tool_calls": [call(0, "call_1", "Write", WRITE_JSON)]}), chunk(finish="tool_calls"),
    ],
    "no id": [
        chunk({"tool_calls": [call(0, None, "Write", WRITE_JSON[:10])]}),
        chunk({"tool_calls": [call(0, args=WRITE_JSON[10:])]}), chunk(finish="tool_calls"),
    ],
    "no index (Gemini, Ollama)": [
        chunk({"tool_calls": [call(None, "call_1", "Write", WRITE_JSON[:10])]}),
        chunk({"tool_calls": [call(None, "call_1", None, WRITE_JSON[10:])]}), chunk(finish="tool_calls"),
    ],
    "finish_reason stop despite the call (Gemini, Ollama)": [
        chunk({"tool_calls": [call(0, "call_1", "Write", WRITE_JSON)]}), chunk(finish="stop"),
    ],
    "name repeated on every chunk (NVIDIA NIM)": [
        chunk({"tool_calls": [call(0, "call_1", "Write", WRITE_JSON[:10])]}),
        chunk({"tool_calls": [call(0, "call_1", "Write", WRITE_JSON[10:])]}), chunk(finish="tool_calls"),
    ],
    "arguments as an object": [
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "Write", "arguments": WRITE_ARGS}}]}),
        chunk(finish="tool_calls"),
    ],
}


@pytest.mark.parametrize("chunks", TOOL_SHAPES.values(), ids=TOOL_SHAPES.keys())
def test_tool_call_shapes(chunks):
    msg = message(chunks)
    [block] = tool_blocks(msg)
    assert block["name"] == "Write" and block["input"] == WRITE_ARGS
    assert block["id"].startswith(("call_1", "toolu_"))
    assert msg["stop_reason"] == "tool_use"


def test_several_whole_calls_in_one_delta():
    msg = message([chunk({"tool_calls": [call(None, None, "Read", '{"file_path": "/a"}'),
                                         call(None, None, "Read", '{"file_path": "/b"}')]}), chunk(finish="stop")])
    blocks = tool_blocks(msg)
    assert [b["input"]["file_path"] for b in blocks] == ["/a", "/b"]
    assert len({b["id"] for b in blocks}) == 2


def test_two_parallel_calls_by_index():
    msg = message([
        chunk({"tool_calls": [call(0, "c0", "Read", '{"file_')]}),
        chunk({"tool_calls": [call(0, args='path": "/a"}')]}),
        chunk({"tool_calls": [call(1, "c1", "Read", '{"file_path": "/b"}')]}),
        chunk(finish="tool_calls")])
    assert [(b["id"], b["input"]) for b in tool_blocks(msg)] == [("c0", {"file_path": "/a"}), ("c1", {"file_path": "/b"})]


def test_an_index_reused_with_a_new_id_is_a_new_call():
    msg = message([chunk({"tool_calls": [call(0, "c0", "Read", '{"file_path": "/a"}')]}),
                   chunk({"tool_calls": [call(0, "c1", "Read", '{"file_path": "/b"}')]}), chunk(finish="tool_calls")])
    assert [b["id"] for b in tool_blocks(msg)] == ["c0", "c1"]


def test_text_then_tool_then_indexes_in_order():
    events = run([chunk({"content": "Let me write."}), chunk({"tool_calls": [call(0, "c", "Write", WRITE_JSON)]}),
                  chunk(finish="tool_calls")])
    starts = [(d["index"], d["content_block"]["type"]) for n, d in events if n == "content_block_start"]
    assert starts == [(0, "text"), (1, "tool_use")]


def test_streamed_arguments_are_streamed_not_buffered():
    events = run(TOOL_SHAPES["fragments (OpenAI, llama.cpp)"])
    deltas = [d["delta"]["partial_json"] for n, d in events if n == "content_block_delta"]
    assert len(deltas) > 5 and json.loads("".join(deltas)) == WRITE_ARGS


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_fields_become_thinking(field):
    msg = message([chunk({field: "Think"}), chunk({field: "ing."}), chunk({"content": "Answer"}), chunk(finish="stop")])
    assert [b["type"] for b in msg["content"]] == ["thinking", "text"]
    assert msg["content"][0]["thinking"] == "Thinking." and msg["content"][0]["signature"]
    assert msg["content"][1]["text"] == "Answer"


def test_reasoning_details_when_no_reasoning_string():
    msg = message([chunk({"reasoning_details": [{"type": "reasoning.text", "text": "deep"},
                                                {"type": "reasoning.encrypted", "data": "xx"}]}),
                   chunk({"content": "ok"}), chunk(finish="stop")])
    block = msg["content"][0]
    assert block["thinking"] == "deep"
    # the encrypted part is not shown, but rides in the signature to be sent back
    assert state.unseal(block["signature"])["d"] == [{"type": "reasoning.text", "text": "deep"},
                                                     {"type": "reasoning.encrypted", "data": "xx"}]


def test_think_tags_in_content():
    msg = message([chunk({"content": "<thi"}), chunk({"content": "nk>plan</th"}), chunk({"content": "ink>\n\nDone"}),
                   chunk(finish="stop")])
    assert [(b["type"], b.get("thinking", b.get("text"))) for b in msg["content"]] == [("thinking", "plan"), ("text", "Done")]


def test_thinking_display_omitted_sends_no_thinking_text():
    events = run([chunk({"reasoning_content": "secret plan"}), chunk({"content": "ok"}), chunk(finish="stop")],
                 show_thinking=False)
    assert "secret plan" not in json.dumps(events)
    assert accumulate(events)["content"][0]["type"] == "thinking"


def test_usage_in_a_final_chunk_with_no_choices_and_cache():
    msg = message([chunk({"content": "hi"}), chunk(finish="stop"),
                   chunk(usage={"prompt_tokens": 100, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 60}})])
    assert msg["usage"] == {"input_tokens": 40, "output_tokens": 7, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 60}


def test_usage_in_the_finish_chunk():
    msg = message([chunk({"content": "hi"}), chunk(finish="stop", usage={"prompt_tokens": 12, "completion_tokens": 3})])
    assert (msg["usage"]["input_tokens"], msg["usage"]["output_tokens"]) == (12, 3)


def test_deepseek_cache_hit_tokens():
    msg = message([chunk({"content": "hi"}), chunk(finish="stop", usage={
        "prompt_tokens": 50, "completion_tokens": 2, "prompt_cache_hit_tokens": 30})])
    assert (msg["usage"]["input_tokens"], msg["usage"]["cache_read_input_tokens"]) == (20, 30)


def test_missing_usage_is_estimated():
    tr = StreamTranslator(model="m", input_estimate=321)
    events = tr.feed(chunk({"content": "x" * 40})) + tr.finish(done=True)
    assert not tr.usage_reported
    assert accumulate(events)["usage"]["input_tokens"] == 321 and tr.billed_output == 10


@pytest.mark.parametrize("finish,stop", [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal"),
                                         ("tool_calls", "end_turn"), ("something_new", "end_turn")])
def test_finish_reasons(finish, stop):
    assert message([chunk({"content": "x"}), chunk(finish=finish)])["stop_reason"] == stop


def test_matched_stop_sequence():
    c = chunk(finish="stop")
    c["choices"][0]["stop_reason"] = "###"
    msg = message([chunk({"content": "x"}), c])
    assert (msg["stop_reason"], msg["stop_sequence"]) == ("stop_sequence", "###")


def test_message_start_waits_for_content():
    tr = StreamTranslator(model="m")
    assert tr.feed(chunk({"role": "assistant", "content": ""})) == []


def test_error_inside_a_200_stream():
    tr = StreamTranslator(model="m")
    with pytest.raises(UpstreamStreamError) as e:
        tr.feed({"error": {"message": "Provider returned error", "code": 429}})
    assert e.value.error["code"] == 429


def test_finish_reason_error_is_an_error():
    tr = StreamTranslator(model="m")
    tr.feed(chunk({"content": "partial"}))
    with pytest.raises(UpstreamStreamError):
        tr.feed(chunk(finish="error"))


def test_stream_cut_without_finish_is_not_an_answer():
    tr = StreamTranslator(model="m")
    tr.feed(chunk({"content": "half an ans"}))
    with pytest.raises(IncompleteStream):
        tr.finish(done=False)


def test_finish_reason_without_done_is_complete():
    assert message([chunk({"content": "x"}), chunk(finish="stop")], done=False)["stop_reason"] == "end_turn"


def test_long_tool_name_mapped_back():
    names = ToolNames()
    long = "mcp__" + "x" * 80
    short = names.up(long)
    tr = StreamTranslator(model="m", names=names)
    events = tr.feed(chunk({"tool_calls": [call(0, "c", short, "{}")]})) + tr.finish(done=True)
    assert accumulate(events)["content"][0]["name"] == long


def test_mistral_style_content_parts():
    assert message([chunk({"content": [{"type": "text", "text": "hi"}]}), chunk(finish="stop")])["content"][0]["text"] == "hi"


def test_garbage_chunks_are_ignored():
    tr = StreamTranslator(model="m")
    assert tr.feed({"choices": [None, 5, {"delta": {"tool_calls": [None, "x"]}}]}) == []
    assert tr.feed("not a dict") == []


# ---------------------------------------------------------------- state that must come back


def test_omitted_thinking_still_carries_the_reasoning_in_its_signature():
    tr = StreamTranslator(model="m", show_thinking=False, provider="nim")
    events = tr.feed(chunk({"reasoning_content": "plan A"})) + tr.feed(chunk({"content": "ok"})) + tr.feed(chunk(finish="stop"))
    msg = accumulate(events + tr.finish(done=True))
    assert msg["content"][0]["thinking"] == ""
    assert state.unseal(msg["content"][0]["signature"]) == {"p": "nim", "r": "plan A"}


def test_streamed_reasoning_details_are_joined_by_index():
    details = [{"type": "reasoning.text", "text": "Let ", "index": 0, "format": "f"},
               {"type": "reasoning.text", "text": "me see", "index": 0, "format": "f"},
               {"type": "reasoning.encrypted", "data": "abc", "index": 1, "id": "r1"}]
    msg = message([chunk({"reasoning": d.get("text", ""), "reasoning_details": [d]}) for d in details]
                  + [chunk({"content": "ok"}), chunk(finish="stop")])
    assert msg["content"][0]["thinking"] == "Let me see"
    assert state.unseal(msg["content"][0]["signature"])["d"] == [
        {"type": "reasoning.text", "text": "Let me see", "index": 0, "format": "f"},
        {"type": "reasoning.encrypted", "data": "abc", "index": 1, "id": "r1"}]


def test_gemini_thought_signature_rides_in_the_tool_use_id():
    tc = {"id": "function-call-1", "type": "function", "function": {"name": "Write", "arguments": "{}"},
          "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl+/="}}}
    msg = message([chunk({"tool_calls": [tc]}), chunk(finish="stop")])
    block = msg["content"][0]
    assert state.split_id(block["id"]) == ("function-call-1", "c2lnbmF0dXJl+/=")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", block["id"]) and msg["stop_reason"] == "tool_use"


def test_content_parts_with_thinking_parts_are_thinking():
    parts = [{"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]}, {"type": "text", "text": "Yes."}]
    msg = message([chunk({"content": parts}), chunk(finish="stop")])
    assert [(b["type"], b.get("thinking") or b.get("text")) for b in msg["content"]] == [("thinking", "Hmm."), ("text", "Yes.")]


def test_an_id_seen_before_wins_over_a_disagreeing_index():
    msg = message([chunk({"tool_calls": [call(0, "a", "Write", '{"file_path": ')]}),
                   chunk({"tool_calls": [call(1, "a", None, '"x"}')]}),
                   chunk({"tool_calls": [call(1, "b", "Read", '{"file_path": "y"}')]}),
                   chunk(finish="tool_calls")])
    calls = [b for b in msg["content"] if b["type"] == "tool_use"]
    assert [(c["id"], c["name"], c["input"]) for c in calls] == [("a", "Write", {"file_path": "x"}),
                                                                 ("b", "Read", {"file_path": "y"})]


def test_two_blocks_never_share_an_id():
    msg = message([chunk({"tool_calls": [call(0, "same", "A", "{}")]}), chunk({"content": "and"}),
                   chunk({"tool_calls": [call(0, "same", "B", "{}")]}), chunk(finish="tool_calls")])
    ids = [b["id"] for b in msg["content"] if b["type"] == "tool_use"]
    assert len(ids) == len(set(ids))


def test_a_chunk_with_delta_and_message_does_not_repeat_text():
    msg = message([chunk({"content": "Hello"}),
                   {"choices": [{"index": 0, "delta": {}, "message": {"role": "assistant", "content": "Hello"},
                                 "finish_reason": "stop"}]}])
    assert msg["content"] == [{"type": "text", "text": "Hello"}]


def test_legacy_function_call_is_a_tool_call():
    msg = message([chunk({"function_call": {"name": "Write", "arguments": '{"a": '}}),
                   chunk({"function_call": {"arguments": "1}"}}), chunk(finish="function_call")])
    block = msg["content"][0]
    assert (block["type"], block["name"], block["input"]) == ("tool_use", "Write", {"a": 1}) and block["id"]
    assert msg["stop_reason"] == "tool_use"


def test_arguments_that_are_two_objects_run_together_are_two_calls():
    """A server that merged two calls of one tool into one arguments string (GLM 5.1 through
    LiteLLM, edison7009/EchoBird#187): the second object, however it is cut, is a second call."""
    first = '{"command": "cat \\"D:\\\\Workspace\\\\Impl.java\\"", "workdir": "D:\\\\Workspace"}'
    second = '{"command": "ls", "workdir": "D:\\\\Workspace"}'
    shell = {"shell_command": {"type": "object", "properties": {"command": {"type": "string"}, "workdir": {"type": "string"}}}}
    text = first + second
    for cut in (len(first), len(first) + 1, len(first) - 3, 7):
        tr = StreamTranslator(model="m", tools=shell)
        events = tr.feed(chunk({"tool_calls": [call(index=0, id="c1", name="shell_command", args=text[:cut])]}))
        events += tr.feed(chunk({"tool_calls": [call(index=0, args=text[cut:])]}, finish="tool_calls")) + tr.finish(done=True)
        check_grammar(events)
        blocks = accumulate(events)["content"]
        assert [(b["name"], b["input"]) for b in blocks] == [
            ("shell_command", json.loads(first)), ("shell_command", json.loads(second))], cut
        assert blocks[0]["id"] != blocks[1]["id"]


def test_a_name_holding_glm_markup_is_mended_with_its_arguments():
    """A GLM parser that cut the name at the wrong tag (zai-org/GLM-5#84): the name is the offered
    tool it begins with, and the markup after it is arguments, merged with the ones that came."""
    read = {"read": {"type": "object", "properties": {"filePath": {"type": "string"}, "limit": {"type": "number"}}}}
    tr = StreamTranslator(model="m", tools=read)
    events = tr.feed(chunk({"tool_calls": [call(index=0, id="a",
                                                name="read<arg_key>filePath</arg_key><arg_value>/x</arg_value>")]}))
    events += tr.feed(chunk({"tool_calls": [call(index=0, args='{"limit": 5}')]}))
    events += tr.feed(chunk({"tool_calls": [call(index=1, id="b", name="read", args='{"filePath": "/y"}')]}, finish="tool_calls"))
    events += tr.finish(done=True)
    check_grammar(events)
    assert [(b["name"], b["input"]) for b in accumulate(events)["content"]] == [
        ("read", {"limit": 5, "filePath": "/x"}), ("read", {"filePath": "/y"})]


def test_a_name_not_offered_is_left_as_it_came():
    events = run([chunk({"tool_calls": [call(index=0, id="a", name="Other<arg_key>k</arg_key>", args="{}")]},
                        finish="tool_calls")])
    assert accumulate(events)["content"][0]["name"] == "Other<arg_key>k</arg_key>"


def test_reasoning_text_that_is_not_a_string_holds_no_text():
    # the upstream's JSON: a field of the wrong type is no text, not a crash of the stream
    msg = message([chunk({"reasoning_details": [{"type": "reasoning.text", "text": 5},
                                                {"type": "reasoning.summary", "summary": "short. "}]}),
                   chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": None},
                                                                        {"type": "text", "text": "Hmm."}]}]}),
                   chunk({"content": "ok"}), chunk(finish="stop")])
    assert [(b["type"], b.get("thinking") or b.get("text")) for b in msg["content"]] == [
        ("thinking", "short. Hmm."), ("text", "ok")]
