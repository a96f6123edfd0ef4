"""The OpenRouter emulator: its error envelope, free-model limits, stream framing (comments,
reasoning plus reasoning_details, usage last, errors inside a 200 stream) and the
reasoning_details it demands back for Gemini."""

import json

from tests.emulators.brain import Call, Turn
from tests.emulators.openrouter import FREE_RPM, OpenRouterEmulator

URL = "/api/v1/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
FREE = "nvidia/nemotron-3-super-120b-a12b:free"
GEMINI = "google/gemini-3.8-flash"


def thinker(view):
    return Turn(reasoning="Look it up.", calls=[Call("get_weather", {"city": "Paris"})])


def ask(model, **kw):
    return {"model": model, "messages": [{"role": "user", "content": "weather?"}], **kw}


def data_lines(text: str) -> list[dict]:
    return [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: ") and x != "data: [DONE]"]


async def test_errors_use_the_code_message_envelope(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator().app())
    resp = await client.post(URL, json=ask(FREE), headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == 401
    resp = await client.post(URL, json=ask("nope/nothing"), headers=AUTH)
    assert resp.status == 400 and "not a valid model ID" in (await resp.json())["error"]["message"]


async def test_free_models_share_twenty_requests_a_minute(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator().app())
    for _ in range(FREE_RPM):
        assert (await client.post(URL, json=ask(FREE), headers=AUTH)).status == 200
    resp = await client.post(URL, json=ask("google/gemma-4-31b-it:free"), headers=AUTH)
    assert resp.status == 429 and resp.headers["X-RateLimit-Remaining"] == "0"
    assert (await resp.json())["error"]["message"].startswith("Rate limit exceeded")
    assert (await client.post(URL, json=ask(GEMINI), headers=AUTH)).status == 200  # paid models are not counted


async def test_stream_framing(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator(brain=thinker).app())
    resp = await client.post(URL, json=ask(FREE, stream=True), headers=AUTH)
    text = await resp.text()
    assert text.startswith(": OPENROUTER PROCESSING\n\n") and text.rstrip().endswith("data: [DONE]")
    chunks = data_lines(text)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    thinking = next(d for d in deltas if d.get("reasoning"))
    assert thinking["reasoning_details"] == [{"type": "reasoning.text", "text": "Look it up.", "format": "unknown",
                                              "index": 0}]
    fragments = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert all(tc["index"] == 0 for tc in fragments) and len(fragments) > 2
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0  # usage unasked


async def test_an_error_after_the_first_chunk_arrives_inside_the_200(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator(error_midstream="Provider disconnected unexpectedly").app())
    resp = await client.post(URL, json=ask(FREE, stream=True), headers=AUTH)
    assert resp.status == 200
    last = data_lines(await resp.text())[-1]
    assert last["error"]["message"] == "Provider disconnected unexpectedly"
    assert last["choices"][0]["finish_reason"] == "error"


async def gemini_turn(client) -> dict:
    resp = await client.post(URL, json=ask(GEMINI), headers=AUTH)
    return (await resp.json())["choices"][0]["message"]


def follow_up(message: dict) -> dict:
    call = message["tool_calls"][0]
    msgs = [{"role": "user", "content": "weather?"}, message,
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    return {"model": GEMINI, "messages": msgs}


async def test_gemini_demands_its_reasoning_details_back_unchanged(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator(brain=thinker).app())
    message = await gemini_turn(client)
    kinds = [d["type"] for d in message["reasoning_details"]]
    assert kinds == ["reasoning.text", "reasoning.encrypted"]
    assert message["reasoning_details"][1]["id"] == message["tool_calls"][0]["id"]
    assert (await client.post(URL, json=follow_up(message), headers=AUTH)).status == 200
    bare = {k: v for k, v in message.items() if k != "reasoning_details"}
    resp = await client.post(URL, json=follow_up(bare), headers=AUTH)
    err = (await resp.json())["error"]
    assert resp.status == 400 and err["message"] == "Provider returned error"
    assert err["metadata"]["raw"].startswith("Gemini models require OpenRouter reasoning details to be preserved")
    changed = dict(message, reasoning_details=message["reasoning_details"][:1])
    assert (await client.post(URL, json=follow_up(changed), headers=AUTH)).status == 400


async def test_gemini_stream_carries_the_encrypted_detail(aiohttp_client):
    client = await aiohttp_client(OpenRouterEmulator(brain=thinker).app())
    resp = await client.post(URL, json=ask(GEMINI, stream=True), headers=AUTH)
    chunks = data_lines(await resp.text())
    details = [d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("reasoning_details") or ()]
    assert [d["type"] for d in details] == ["reasoning.text", "reasoning.encrypted"]
    assert chunks[0]["provider"] == "Google AI Studio"
