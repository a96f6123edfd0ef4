"""The DeepSeek emulator answers on /anthropic/v1/messages with DeepSeek's OpenAI-style error body,
takes either auth header, maps claude* names, refuses images on V4 Pro, unknown block types and
system roles, thinks by default, and wants thinking back unless it can restore it by tool id."""

from tests.emulators.brain import Call, Turn
from tests.emulators.deepseek import DeepSeekAnthropic

URL = "/anthropic/v1/messages"
KEY = {"x-api-key": "test-key"}
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}


def think_and_call(view):
    return Turn(reasoning="Call the tool.", calls=[Call("Write", {"file_path": "a.txt"}, id="toolu_1")])


def body(messages, model="deepseek-flash", **kw):
    return {"model": model, "max_tokens": 1024, "messages": messages, **kw}


async def post(client, payload, headers=KEY):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.json()


def refusal(reply) -> str:
    assert set(reply["error"]) == {"message", "type", "param", "code"}, "DeepSeek's OpenAI-style envelope"
    return reply["error"]["message"]


async def test_either_header_authorization_first(aiohttp_client):
    client = await aiohttp_client(DeepSeekAnthropic().app())
    hi = body([{"role": "user", "content": "hi"}])
    assert (await post(client, hi, {"Authorization": "Bearer test-key"}))[0] == 200
    assert (await post(client, hi))[0] == 200
    status, _ = await post(client, hi, {"Authorization": "Bearer wrong", "x-api-key": "test-key"})
    assert status == 401


async def test_model_names(aiohttp_client):
    client = await aiohttp_client(DeepSeekAnthropic().app())
    hi = [{"role": "user", "content": "hi"}]
    for name in ("deepseek-v4-pro", "deepseek-v4-flash", "claude-opus-5-5", "claude-haiku-5-5"):
        assert (await post(client, body(hi, model=name)))[0] == 200, name
    status, reply = await post(client, body(hi, model="gpt-5"))
    assert status == 400 and refusal(reply) == "Model Not Exist"


async def test_images_only_on_flash_and_no_documents_or_system(aiohttp_client):
    client = await aiohttp_client(DeepSeekAnthropic().app())
    picture = [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, IMAGE]}]
    assert (await post(client, body(picture)))[0] == 200
    status, reply = await post(client, body(picture, model="claude-opus-5-5"))  # served by V4 Pro
    assert status == 400 and "does not support image input" in refusal(reply)
    in_result = [{"role": "user", "content": "go"},
                 {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {}}]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [IMAGE]}]}]
    assert (await post(client, body(in_result, model="deepseek-v4-pro", thinking={"type": "disabled"})))[0] == 400
    doc = [{"role": "user", "content": [{"type": "document", "source": {"type": "text", "data": "x"}}]}]
    status, reply = await post(client, body(doc))
    assert status == 400 and "unknown variant `document`" in refusal(reply)
    status, reply = await post(client, body([{"role": "user", "content": "hi"}, {"role": "system", "content": "x"}]))
    assert status == 400 and "unknown variant `system`" in refusal(reply)


async def test_thinks_by_default_and_restores_only_what_it_issued(aiohttp_client):
    client = await aiohttp_client(DeepSeekAnthropic(think_and_call).app())
    first = [{"role": "user", "content": "write a.txt"}]
    status, reply = await post(client, body(first))
    assert [b["type"] for b in reply["content"]] == ["thinking", "tool_use"]
    status, plain = await post(client, body(first, thinking={"type": "disabled"}))
    assert [b["type"] for b in plain["content"]] == ["tool_use"]
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "created"}]}
    without = first + [{"role": "assistant", "content": reply["content"][1:]}, result]
    assert (await post(client, body(without)))[0] == 200  # restored by tool-call id
    foreign = first + [{"role": "assistant", "content": [{"type": "tool_use", "id": "other", "name": "Write", "input": {}}]},
                       {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "other", "content": "ok"}]}]
    status, reply = await post(client, body(foreign))
    assert status == 400 and "must be passed back" in refusal(reply)
    assert (await post(client, body(foreign, thinking={"type": "disabled"})))[0] == 200
