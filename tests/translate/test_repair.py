"""Broken and textual tool calls from real loopback upstreams, as the SDK receives them."""

import json

import aiohttp
import pytest

from freeclaude.translate.jsonrepair import INVALID_KEY
from tests.conftest import TOKEN
from tests.support.fakes import Json, Stream, call, chunk, completion, profile

WRITE = {"name": "Write", "input_schema": {"type": "object", "properties": {
    "file_path": {"type": "string"}, "content": {"type": "string"}}, "required": ["file_path", "content"]}}
HI = [{"role": "user", "content": "write it"}]


async def final(sdk, server, **kw):
    async with sdk(server).messages.stream(model="claude-opus-5-5", max_tokens=500, messages=HI, tools=[WRITE], **kw) as s:
        return await s.get_final_message()


@pytest.mark.parametrize("args", [
    "{'file_path': '/x', 'content': 'hi',}",
    '```json\n{"file_path": "/x", "content": "hi"}\n```',
    json.dumps(json.dumps({"file_path": "/x", "content": "hi"})),
    '{"file_path": "/x", "content": "hi"',
])
async def test_broken_arguments_are_repaired(fake, gateway, sdk, args):
    pieces = [args[i:i + 4] for i in range(0, len(args), 4)]
    fake.queue(Stream([chunk({"tool_calls": [call(0, "c1", "Write", "")]})]
                      + [chunk({"tool_calls": [call(0, args=p)]}) for p in pieces] + [chunk(finish="tool_calls")]))
    msg = await final(sdk, await gateway(profile(fake.url)))
    assert msg.content[0].input == {"file_path": "/x", "content": "hi"} and msg.stop_reason == "tool_use"


async def test_unrepairable_arguments_are_reported_not_emptied(fake, gateway, sdk):
    fake.queue(Stream([chunk({"tool_calls": [call(0, "c1", "Write", '{"file_path": "/x", "content": @@@}')]}),
                       chunk(finish="tool_calls")]))
    msg = await final(sdk, await gateway(profile(fake.url)))
    block = msg.content[0]
    assert block.input["file_path"] is None and block.input["content"] is None
    assert "not valid JSON" in block.input[INVALID_KEY]["error"] and "@@@" in block.input[INVALID_KEY]["raw"]


async def test_arguments_cut_by_max_tokens_never_run(fake, gateway, sdk):
    fake.queue(Stream([chunk({"tool_calls": [call(0, "c1", "Write", '{"file_path": "/x", "content": "half of')]}),
                       chunk(finish="length")]))
    msg = await final(sdk, await gateway(profile(fake.url)))
    assert msg.stop_reason == "max_tokens" and msg.content[0].input["content"] is None


@pytest.mark.parametrize("text", [
    'I will write it.<tool_call>\n{"name": "Write", "arguments": {"file_path": "/x", "content": "hi"}}\n</tool_call>',
    "<tool_call>\n<function=Write>\n<parameter=file_path>\n/x\n</parameter>\n<parameter=content>\nhi\n</parameter>\n</function>\n</tool_call>",
    '<function=Write>{"file_path": "/x", "content": "hi"}</function>',
    'Here it is:\n```json\n{"name": "Write", "arguments": {"file_path": "/x", "content": "hi"}}\n```',
])
@pytest.mark.parametrize("stream", [True, False])
async def test_textual_tool_calls_become_tool_use(fake, gateway, sdk, text, stream):
    if stream:
        fake.queue(Stream([chunk({"content": text[i:i + 6]}) for i in range(0, len(text), 6)] + [chunk(finish="stop")]))
        msg = await final(sdk, await gateway(profile(fake.url)))
    else:
        fake.queue(Json(completion({"content": text})))
        msg = await sdk(await gateway(profile(fake.url))).messages.create(
            model="claude-opus-5-5", max_tokens=500, messages=HI, tools=[WRITE])
    calls = [b for b in msg.content if b.type == "tool_use"]
    assert [(c.name, c.input) for c in calls] == [("Write", {"file_path": "/x", "content": "hi"})]
    assert msg.stop_reason == "tool_use"
    assert "<tool_call>" not in json.dumps([b.model_dump() for b in msg.content])


async def test_good_arguments_stream_as_they_arrive(fake, gateway):
    args = json.dumps({"file_path": "/x", "content": "a" * 200})
    fake.queue(Stream([chunk({"tool_calls": [call(0, "c1", "Write", "")]})]
                      + [chunk({"tool_calls": [call(0, args=args[i:i + 20])]}) for i in range(0, len(args), 20)]
                      + [chunk(finish="tool_calls")], delay=0.01))
    server = await gateway(profile(fake.url))
    body = {"model": "claude-opus-5-5", "max_tokens": 500, "messages": HI, "tools": [WRITE], "stream": True}
    async with aiohttp.ClientSession() as s:
        async with s.post(server.base_url + "/v1/messages", json=body, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            raw = (await r.read()).decode()
    deltas = [json.loads(e.split("data: ", 1)[1])["delta"]["partial_json"]
              for e in raw.split("\n\n") if "input_json_delta" in e]
    assert len(deltas) >= 10 and json.loads("".join(deltas)) == json.loads(args)
