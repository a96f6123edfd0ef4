"""The MiniMax emulator: /anthropic/v1/messages with either auth header, temperature in (0, 1],
no documents and no images on the M2 line, thinking by default with base_resp in the reply, and
a tool-calling turn's thinking required back unchanged."""

from tests.emulators.brain import Call, Turn
from tests.emulators.minimax import MiniMaxAnthropic

URL = "/anthropic/v1/messages"
AUTH = {"Authorization": "Bearer test-key"}
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}


def think_and_call(view):
    if view.results:
        return Turn(text="done")
    return Turn(reasoning="Write it.", calls=[Call("Write", {"file_path": "a.txt"}, id="call_1")])


def body(messages, model="MiniMax-M3", **kw):
    return {"model": model, "max_tokens": 1024, "messages": messages, **kw}


async def post(client, payload, headers=AUTH):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.json()


async def test_auth_and_temperature(aiohttp_client):
    client = await aiohttp_client(MiniMaxAnthropic().app())
    hi = [{"role": "user", "content": "hi"}]
    assert (await post(client, body(hi), {"x-api-key": "test-key"}))[0] == 200
    assert (await post(client, body(hi), {"Authorization": "Bearer no"}))[0] == 401
    assert (await post(client, body(hi, temperature=0)))[0] == 400
    assert (await post(client, body(hi, temperature=1.0)))[0] == 200


async def test_images_and_documents(aiohttp_client):
    client = await aiohttp_client(MiniMaxAnthropic().app())
    picture = [{"role": "user", "content": [IMAGE]}]
    assert (await post(client, body(picture)))[0] == 200
    status, reply = await post(client, body(picture, model="MiniMax-M2.7"))
    assert status == 400 and reply["error"]["type"] == "invalid_request_error"
    doc = [{"role": "user", "content": [{"type": "document", "source": {"type": "text", "data": "x"}}]}]
    assert (await post(client, body(doc)))[0] == 400


async def test_thinking_must_come_back_whole(aiohttp_client):
    client = await aiohttp_client(MiniMaxAnthropic(think_and_call).app())
    first = [{"role": "user", "content": "write a.txt"}]
    status, reply = await post(client, body(first))
    assert reply["base_resp"]["status_code"] == 0 and [b["type"] for b in reply["content"]] == ["thinking", "tool_use"]
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "created"}]}
    assert (await post(client, body(first + [{"role": "assistant", "content": reply["content"]}, result])))[0] == 200
    dropped = first + [{"role": "assistant", "content": reply["content"][1:]}, result]
    status, refused = await post(client, body(dropped))
    assert status == 400 and "thinking block" in refused["error"]["message"]
