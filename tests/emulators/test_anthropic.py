"""The Anthropic emulator refuses what the Messages API refuses (bad key, unknown model, output cap,
misplaced or unsupported system messages, unpaired tool blocks, altered thinking) in Anthropic's
envelope, and streams thinking with its signature."""

import json

from tests.emulators.anthropic import Anthropic
from tests.emulators.brain import Call, Turn

URL = "/v1/messages"
KEY = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}


def think_and_call(view):
    if view.results:
        return Turn(text="done")
    return Turn(reasoning="I should write the file.", calls=[Call("Write", {"file_path": "a.txt"}, id="toolu_1")])


def body(messages, model="claude-opus-5-5", **kw):
    return {"model": model, "max_tokens": 1024, "messages": messages, **kw}


async def post(client, payload, headers=KEY):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.json(content_type=None) if resp.content_type == "application/json" else await resp.text()


def refusal(reply) -> str:
    assert reply["type"] == "error" and reply["request_id"].startswith("req_")
    return reply["error"]["message"]


async def test_key_goes_in_x_api_key(aiohttp_client):
    client = await aiohttp_client(Anthropic().app())
    hi = body([{"role": "user", "content": "hi"}])
    status, reply = await post(client, hi, {"Authorization": "Bearer test-key"})
    assert status == 401 and reply["error"]["type"] == "authentication_error"
    assert (await post(client, hi))[0] == 200


async def test_unknown_model_and_output_cap(aiohttp_client):
    client = await aiohttp_client(Anthropic().app())
    hi = [{"role": "user", "content": "hi"}]
    status, reply = await post(client, body(hi, model="claude-opus-9"))
    assert status == 404 and reply["error"]["type"] == "not_found_error"
    status, reply = await post(client, body(hi, model="claude-haiku-4-5", max_tokens=64001))
    assert status == 400 and refusal(reply).startswith("max_tokens: 64001 > 64000")


async def test_prompt_too_long(aiohttp_client):
    client = await aiohttp_client(Anthropic().app())
    status, reply = await post(client, body([{"role": "user", "content": "x" * 900_000}], model="claude-haiku-4-5"))
    assert status == 400 and refusal(reply).startswith("prompt is too long:")


async def test_system_messages_after_a_user_turn_on_new_models_only(aiohttp_client):
    client = await aiohttp_client(Anthropic().app())
    late = [{"role": "user", "content": "hi"}, {"role": "system", "content": "be brief"}]
    assert (await post(client, body(late)))[0] == 200
    status, reply = await post(client, body(late, model="claude-haiku-4-5"))
    assert status == 400 and "role 'system' is not supported on this model" in refusal(reply)
    status, reply = await post(client, body([{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]))
    assert status == 400 and "must immediately follow a `user` message" in refusal(reply)
    status, reply = await post(client, body([{"role": "tool", "content": "x"}]))
    assert status == 400 and "Input should be 'user' or 'assistant'" in refusal(reply)


async def test_tool_blocks_must_pair(aiohttp_client):
    client = await aiohttp_client(Anthropic().app())
    stray = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "ok"}]}]
    status, reply = await post(client, body(stray))
    assert status == 400 and refusal(reply).startswith(
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9")
    unanswered = [{"role": "user", "content": "go"},
                  {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {}}]},
                  {"role": "user", "content": "and?"}]
    status, reply = await post(client, body(unanswered))
    assert status == 400 and refusal(reply).startswith("messages.1: `tool_use` ids were found without `tool_result` blocks")


async def test_thinking_must_come_back_unchanged(aiohttp_client):
    emulator = Anthropic(think_and_call)
    client = await aiohttp_client(emulator.app())
    first = [{"role": "user", "content": "write a.txt"}]
    status, reply = await post(client, body(first, thinking={"type": "adaptive"}))
    assert status == 200 and [b["type"] for b in reply["content"]] == ["thinking", "tool_use"]
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "created"}]}
    back = first + [{"role": "assistant", "content": reply["content"]}, result]
    assert (await post(client, body(back, thinking={"type": "adaptive"})))[0] == 200
    altered = json.loads(json.dumps(back))
    altered[1]["content"][0]["thinking"] = "something else"
    status, reply = await post(client, body(altered))
    assert status == 400 and refusal(reply) == "messages.1.content.0: Invalid `signature` in `thinking` block"


async def test_stream_omits_thinking_text_when_asked(aiohttp_client):
    client = await aiohttp_client(Anthropic(think_and_call).app())
    resp = await client.post(URL, headers=KEY, json=body([{"role": "user", "content": "write a.txt"}], stream=True,
                                                         thinking={"type": "adaptive", "display": "omitted"}))
    events = [json.loads(line[6:]) for line in (await resp.text()).splitlines() if line.startswith("data: ")]
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert deltas[0] == {"type": "thinking_delta", "thinking": ""} and deltas[1]["type"] == "signature_delta"
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
