"""The official anthropic SDK against the gateway, in front of real loopback upstreams."""

import json

import anthropic
import pytest

from tests.conftest import KEY, rows
from tests.support.fakes import Json, Stream, call, chunk, completion, profile, text_chunks, usage

WRITE = {"name": "Write", "description": "Write a file",
         "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
                          "required": ["file_path", "content"]}}
ARGS = {"file_path": "/tmp/hello.txt", "content": "hello from tool\n"}
ARGS_JSON = json.dumps(ARGS)
HI = [{"role": "user", "content": "hi"}]


async def test_streamed_text_and_usage(fake, gateway, sdk):
    fake.queue(Stream(text_chunks("Hello there, friend.", prompt=31, completion=6)))
    server = await gateway(profile(fake.url))
    async with sdk(server).messages.stream(model="claude-sonnet-5-5", max_tokens=100, messages=HI) as stream:
        text = await stream.get_final_text()
        final = await stream.get_final_message()
    assert text == "Hello there, friend."
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (31, 6)
    sent = fake.last
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "up-model" and sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    [row] = rows(server)
    assert (row["tier"], row["input_tokens"], row["output_tokens"], row["outcome"]) == ("sonnet", 31, 6, "ok")
    assert row["cost_usd"] == pytest.approx((31 * 1.0 + 6 * 2.0) / 1e6)


async def test_not_streamed_text(fake, gateway, sdk):
    fake.queue(Json(completion({"content": "Plain answer."}, prompt=9, completion_tokens=3)))
    server = await gateway(profile(fake.url))
    msg = await sdk(server).messages.create(model="claude-haiku-5-5", max_tokens=50, messages=HI)
    assert msg.content[0].text == "Plain answer." and msg.stop_reason == "end_turn"
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (9, 3)
    assert msg.model == "claude-haiku-5-5"


TOOL_STREAMS = {
    "fragments": [chunk({"tool_calls": [call(0, "call_1", "Write", "")]})]
    + [chunk({"tool_calls": [call(0, args=ARGS_JSON[i:i + 5])]}) for i in range(0, len(ARGS_JSON), 5)]
    + [chunk(finish="tool_calls"), chunk(usage=usage(50, 20))],
    "whole": [chunk({"tool_calls": [call(0, "call_1", "Write", ARGS_JSON)]}), chunk(finish="tool_calls")],
    "no id": [chunk({"tool_calls": [call(0, None, "Write", ARGS_JSON[:9])]}),
              chunk({"tool_calls": [call(0, None, None, ARGS_JSON[9:])]}), chunk(finish="tool_calls")],
    "no index": [chunk({"tool_calls": [call(None, "call_1", "Write", ARGS_JSON[:9])]}),
                 chunk({"tool_calls": [call(None, "call_1", None, ARGS_JSON[9:])]}), chunk(finish="tool_calls")],
    "finish stop": [chunk({"tool_calls": [call(0, "call_1", "Write", ARGS_JSON)]}), chunk(finish="stop")],
}


@pytest.mark.parametrize("chunks", TOOL_STREAMS.values(), ids=TOOL_STREAMS.keys())
async def test_streamed_tool_call(fake, gateway, sdk, chunks):
    fake.queue(Stream(chunks))
    server = await gateway(profile(fake.url))
    async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=100, messages=HI, tools=[WRITE]) as stream:
        final = await stream.get_final_message()
    [block] = [b for b in final.content if b.type == "tool_use"]
    assert block.name == "Write" and block.input == ARGS and block.id
    assert final.stop_reason == "tool_use"
    assert fake.last.body["tools"][0]["function"]["name"] == "Write"


async def test_two_parallel_tool_calls(fake, gateway, sdk):
    fake.queue(Stream([
        chunk({"content": "Reading both."}),
        chunk({"tool_calls": [call(0, "c0", "Read", '{"file_path":')]}),
        chunk({"tool_calls": [call(0, args=' "/a"}')]}),
        chunk({"tool_calls": [call(1, "c1", "Read", '{"file_path": "/b"}')]}),
        chunk(finish="tool_calls")]))
    server = await gateway(profile(fake.url))
    read = {"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
    async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=100, messages=HI, tools=[read]) as stream:
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert [(b.id, b.input) for b in final.content[1:]] == [("c0", {"file_path": "/a"}), ("c1", {"file_path": "/b"})]


async def test_thinking(fake, gateway, sdk):
    fake.queue(Stream([chunk({"reasoning_content": "The user greets. "}), chunk({"reasoning_content": "Greet back."}),
                       chunk({"content": "Hello!"}), chunk(finish="stop", usage=usage(10, 12))]))
    server = await gateway(profile(fake.url, quirks={"reasoning_effort": True}))
    async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=2000, messages=HI,
                                           thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        final = await stream.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].thinking == "The user greets. Greet back."
    assert final.content[0].signature
    assert final.content[1].text == "Hello!"
    assert fake.last.body["reasoning_effort"] == "low"


async def test_tool_result_round_trip(fake, gateway, sdk):
    fake.queue(Json(completion({"content": "Wrote the file."})))
    server = await gateway(profile(fake.url))
    messages = [
        {"role": "user", "content": "write hello.txt"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "plan", "signature": "freeclaude"},
                                          {"type": "tool_use", "id": "call_1", "name": "Write", "input": ARGS}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "File created"}]},
    ]
    msg = await sdk(server).messages.create(model="claude-opus-5-5", max_tokens=100, messages=messages, tools=[WRITE])
    assert msg.content[0].text == "Wrote the file."
    sent = fake.last.body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1" and json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == ARGS
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "File created"}


async def test_wrong_token_is_401(fake, gateway, sdk):
    server = await gateway(profile(fake.url))
    client = sdk(server, api_key="wrong")
    with pytest.raises(anthropic.AuthenticationError) as e:
        await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HI)
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "authentication_error"
    assert fake.received == []


async def test_upstream_429_is_rate_limit_error_with_retry_after(fake, gateway, sdk):
    fake.queue(Json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "30"}))
    server = await gateway(profile(fake.url), max_wait=0)
    with pytest.raises(anthropic.RateLimitError) as e:
        await sdk(server).messages.create(model="claude-opus-5-5", max_tokens=10, messages=HI)
    assert e.value.response.headers["retry-after"] == "30"
    assert "fake:up-model" in e.value.message and "slow down" in e.value.message


async def test_upstream_5xx_is_server_error(fake, gateway, sdk):
    fake.queue(Json({"error": {"message": "boom"}}, status=500))
    server = await gateway(profile(fake.url))
    with pytest.raises(anthropic.InternalServerError) as e:
        await sdk(server).messages.create(model="claude-opus-5-5", max_tokens=10, messages=HI)
    assert e.value.status_code == 500 and e.value.body["error"]["type"] == "api_error"


async def test_stream_cut_mid_answer_raises(fake, gateway, sdk):
    fake.queue(Stream([chunk({"content": "The answer is"}), chunk({"content": " forty"})], cut=True))
    server = await gateway(profile(fake.url))
    texts = []
    with pytest.raises(anthropic.APIStatusError) as e:
        async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=10, messages=HI) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    assert "".join(texts) == "The answer is forty"
    assert "broke off" in str(e.value) or "before the answer finished" in str(e.value)
    [row] = rows(server, "outcome, output_tokens")
    assert row["outcome"] == "api_error" and row["output_tokens"] > 0  # what was streamed is still counted


async def test_stream_ending_without_finish_or_done_raises(fake, gateway, sdk):
    fake.queue(Stream([chunk({"content": "Half"})], done=False))
    server = await gateway(profile(fake.url))
    with pytest.raises(anthropic.APIStatusError):
        async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=10, messages=HI) as stream:
            await stream.get_final_message()


async def test_count_tokens(fake, gateway, sdk):
    server = await gateway(profile(fake.url))
    count = await sdk(server).messages.count_tokens(model="claude-opus-5-5", messages=HI, tools=[WRITE])
    assert count.input_tokens > 10


async def test_anthropic_passthrough_stream(fake, gateway, sdk):
    events = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "deepseek-chat", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 40, "output_tokens": 1,
                                                                  "cache_read_input_tokens": 8}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Native."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 3}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    fake.queue(Stream(events, events=True))
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic", model="deepseek-chat"))
    system = [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1; cch=9;"},
              {"type": "text", "text": "Be Claude."}]
    async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=100, system=system, messages=HI) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == "Native." and final.usage.output_tokens == 3
    sent = fake.last
    assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"]  # the client's own version goes upstream
    assert sent.body["model"] == "deepseek-chat" and sent.body["system"] == [{"type": "text", "text": "Be Claude."}]
    [row] = rows(server)
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (40, 3, 8)
