"""The gateway over HTTP: auth, envelopes, limits, routing, what reaches the upstream."""

import asyncio
import json

import aiohttp
import pytest

from tests.conftest import KEY, TOKEN, rows
from tests.support.fakes import Hang, Json, Stream, chunk, completion, profile, text_chunks

AUTH = {"Authorization": f"Bearer {TOKEN}"}
BODY = {"model": "claude-opus-5-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


async def post(server, path="/v1/messages?beta=true", body=BODY, headers=AUTH, raw: bytes | None = None):
    async with aiohttp.ClientSession() as s:
        async with s.post(server.base_url + path, data=raw if raw is not None else json.dumps(body), headers=headers) as r:
            return r.status, r.headers.copy(), await r.read()


def envelope(raw: bytes) -> dict:
    data = json.loads(raw)
    assert data["type"] == "error" and set(data["error"]) == {"type", "message"}
    return data["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"x-api-key": "nope"}, {"Authorization": TOKEN}])
async def test_requests_without_the_token_are_refused(fake, gateway, headers):
    server = await gateway(profile(fake.url))
    status, _, raw = await post(server, headers=headers)
    assert status == 401 and envelope(raw)["type"] == "authentication_error"
    assert fake.received == []


async def test_x_api_key_is_accepted(fake, gateway):
    fake.queue(Json(completion({"content": "ok"})))
    server = await gateway(profile(fake.url))
    status, _, _ = await post(server, headers={"x-api-key": TOKEN})
    assert status == 200


async def test_health_and_head(fake, gateway):
    server = await gateway(profile(fake.url))
    async with aiohttp.ClientSession() as s:
        async with s.get(server.base_url + "/") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        async with s.head(server.base_url + "/") as r:
            assert r.status == 200


async def test_binds_loopback(fake, gateway):
    server = await gateway(profile(fake.url))
    assert server.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("raw,field", [
    (b"{not json", "body"),
    (b'"a string"', "body"),
    (json.dumps({**BODY, "max_tokens": "many"}).encode(), "max_tokens"),
    (json.dumps({**BODY, "messages": [{"role": "user", "content": [{"type": "text"}]}]}).encode(), "messages.0.content.0.text"),
    (b"[" * 100000 + b"]" * 100000, "body"),
    (b"\xff\xfe garbage", "body"),
])
async def test_bad_requests_are_400_naming_the_field(fake, gateway, raw, field):
    server = await gateway(profile(fake.url))
    status, _, body = await post(server, raw=raw)
    err = envelope(body)
    assert status == 400 and err["type"] == "invalid_request_error" and err["message"].startswith(field)


async def test_body_over_the_limit_is_413(fake, gateway):
    server = await gateway(profile(fake.url), max_body=1024)
    status, _, raw = await post(server, body={**BODY, "system": "x" * 5000})
    assert status == 413 and envelope(raw)["type"] == "request_too_large"


@pytest.mark.parametrize("method,path,status,kind", [("POST", "/v1/complete", 404, "not_found_error"),
                                                     ("GET", "/v1/messages", 405, "invalid_request_error")])
async def test_unknown_routes_get_an_envelope(fake, gateway, method, path, status, kind):
    server = await gateway(profile(fake.url))
    async with aiohttp.ClientSession() as s:
        async with s.request(method, server.base_url + path, headers=AUTH) as r:
            assert r.status == status and envelope(await r.read())["type"] == kind


async def test_models_list(fake, gateway):
    server = await gateway(profile(fake.url, tiers={"opus": ["fake:up-model"], "haiku": ["fake:up-model", "fake:free"]},
                                   extra_models={"free": {"context_window": 8192}}))
    async with aiohttp.ClientSession() as s:
        async with s.get(server.base_url + "/v1/models?limit=1000", headers=AUTH) as r:
            data = await r.json()
    ids = [m["id"] for m in data["data"]]
    # the tiers (sonnet and fable borrow), then each model as /model lists and sends it back
    assert ids == ["opus", "sonnet", "haiku", "fable", "freeclaude/fake:up-model", "freeclaude/fake:free"]
    assert data["has_more"] is False and (data["first_id"], data["last_id"]) == ("opus", "freeclaude/fake:free")
    assert all(m["type"] == "model" and m["created_at"] for m in data["data"])
    models = {m["id"]: m for m in data["data"]}
    assert models["freeclaude/fake:up-model"]["display_name"] == "fake:up-model"
    assert models["freeclaude/fake:up-model"]["description"] == "32k window · $1/$2 per Mtok · opus, haiku"
    assert models["freeclaude/fake:free"]["description"] == "8k window · free · haiku"


async def test_tier_routing_and_direct_model_names(fake, gateway):
    p = profile(fake.url, tiers={"opus": ["fake:big"], "haiku": ["fake:small"], "default": ["fake:up-model"]},
                extra_models={"big": {}, "small": {}})
    fake.default = Json(completion({"content": "ok"}))
    server = await gateway(p)
    for asked, expected in [("claude-opus-5-5", "big"), ("claude-3-5-haiku-latest", "small"), ("gpt-4o", "up-model"),
                            ("claude-sonnet-5-5", "up-model"), ("small", "small"), ("fake:small", "small"),
                            ("freeclaude/fake:big", "big")]:
        status, _, _ = await post(server, body={**BODY, "model": asked})
        assert status == 200 and fake.last.body["model"] == expected, asked


@pytest.mark.parametrize("asked", ["fake:nope", "other:big", "freeclaude/fake:nope", "freeclaude/big-model"])
async def test_a_model_the_profile_lacks_is_a_404_not_a_tier(fake, gateway, asked):
    server = await gateway(profile(fake.url, tiers={"opus": ["fake:big"]}, extra_models={"big": {}}))
    status, _, body = await post(server, body={**BODY, "model": asked})
    error = envelope(body)
    assert status == 404 and error["type"] == "not_found_error"
    assert asked in error["message"] and "fake:big" in error["message"] and "profile test" in error["message"]
    assert fake.received == []


async def test_max_tokens_clamped_to_the_model(fake, gateway):
    fake.queue(Json(completion({"content": "ok"})))
    server = await gateway(profile(fake.url, max_output_tokens=4096))
    await post(server, body={**BODY, "max_tokens": 128000})
    assert fake.last.body["max_tokens"] == 4096


async def test_client_secrets_are_not_forwarded(fake, gateway):
    fake.queue(Json(completion({"content": "ok"})))
    server = await gateway(profile(fake.url))
    await post(server, body={**BODY, "metadata": {"user_id": "device-123"}})
    sent = json.dumps(fake.last.headers) + json.dumps(fake.last.body)
    assert TOKEN not in sent and "device-123" not in sent and KEY in fake.last.headers["Authorization"]


async def test_missing_key_variable_is_a_clear_error(fake):
    from freeclaude.errors import FreeclaudeError
    from freeclaude.gateway.config import Config
    from freeclaude.gateway.server import Server
    with pytest.raises(FreeclaudeError, match=r"needs its key in \$FAKE_KEY, which is not set"):
        Server(Config(profile=profile(fake.url), env={}))


@pytest.mark.parametrize("status,ours,kind", [
    (400, 400, "invalid_request_error"), (401, 401, "authentication_error"), (403, 403, "permission_error"),
    (404, 404, "not_found_error"), (413, 400, "invalid_request_error"), (429, 429, "rate_limit_error"),
    (500, 500, "api_error"), (503, 529, "overloaded_error"),
])
@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_errors_map_to_anthropic_errors(fake, gateway, status, ours, kind, stream):
    fake.queue(Json({"error": {"message": "upstream says no"}}, status=status, headers={"Retry-After": "3"}))
    server = await gateway(profile(fake.url), max_wait=0)
    got, headers, raw = await post(server, body={**BODY, "stream": stream})
    err = envelope(raw)
    assert (got, err["type"]) == (ours, kind)
    assert "fake:up-model" in err["message"] and "upstream says no" in err["message"]
    if status == 429:
        assert headers["retry-after"] == "3"


async def test_refused_connection_is_502_naming_the_provider(gateway):
    server = await gateway(profile("http://127.0.0.1:9/v1"))
    status, _, raw = await post(server)
    err = envelope(raw)
    assert status == 502 and err["type"] == "api_error" and "cannot connect to fake:up-model" in err["message"]


async def test_upstream_timeout_is_504(fake, gateway):
    fake.queue(Json(completion({"content": "late"}), delay=5))
    server = await gateway(profile(fake.url, timeout=0.3))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    assert status == 504 and envelope(raw)["type"] == "timeout_error"


async def test_error_object_in_a_200_stream_before_content(fake, gateway):
    fake.queue(Stream([{"error": {"message": "Provider returned error", "code": 502}}]))
    server = await gateway(profile(fake.url))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    assert status == 502 and "Provider returned error" in envelope(raw)["message"]


async def test_error_after_streaming_began_is_an_error_event(fake, gateway):
    fake.queue(Stream([chunk({"content": "partial"}), {"error": {"message": "overloaded", "code": 503}}], delay=0.05))
    server = await gateway(profile(fake.url))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    text = raw.decode()
    assert status == 200 and "partial" in text
    assert text.rstrip().split("\n\n")[-1].startswith("event: error")
    assert "message_stop" not in text and "message_delta" not in text


async def test_streamed_event_sequence_on_the_wire(fake, gateway):
    fake.queue(Stream(text_chunks("Hi!", n=1, prompt=5, completion=2)))
    server = await gateway(profile(fake.url))
    status, headers, raw = await post(server, body={**BODY, "stream": True})
    assert headers["Content-Type"].startswith("text/event-stream")
    names = [block.split("\n")[0] for block in raw.decode().strip().split("\n\n")]
    assert names == ["event: message_start", "event: content_block_start", "event: content_block_delta",
                     "event: content_block_stop", "event: message_delta", "event: message_stop"]


ANTHROPIC_ANSWER = [
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
    ("message_stop", {"type": "message_stop"}),
]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_the_answer_ends_when_it_is_complete_not_when_the_upstream_closes(fake, gateway, monkeypatch, kind):
    """An upstream that keeps its body open after the answer: the client's body ends at once."""
    monkeypatch.setattr("freeclaude.gateway.upstream.DRAIN_S", 10.0)  # the drain waits, but not the client
    if kind == "openai":
        fake.queue(Stream(text_chunks("Hi!", n=1), linger=3.0))
        server = await gateway(profile(fake.url))
    else:
        fake.queue(Stream(ANTHROPIC_ANSWER, events=True, linger=3.0))
        server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"))
    start = asyncio.get_running_loop().time()
    status, _, raw = await post(server, body={**BODY, "stream": True})
    assert asyncio.get_running_loop().time() - start < 1.5
    assert status == 200 and raw.decode().rstrip().split("\n")[-1].replace(" ", "") == 'data:{"type":"message_stop"}'
    [row] = rows(server)  # written before the client had the end, while the upstream's body is open
    assert row["outcome"] == "ok"


@pytest.mark.parametrize("stream", [True, False])
async def test_lone_surrogates_from_either_side_do_not_break_the_answer(fake, gateway, stream):
    """JSON may escape half a surrogate pair ("\\ud800"), which UTF-8 cannot hold."""
    if stream:
        fake.queue(Stream(text_chunks("broken \ud800 pair", n=1)))
    else:
        fake.queue(Json(completion({"content": "broken \ud800 pair"})))
    server = await gateway(profile(fake.url))
    asked = {**BODY, "stream": stream, "messages": [{"role": "user", "content": "half \udfff a pair"}]}
    status, _, raw = await post(server, raw=json.dumps(asked).encode())
    assert status == 200 and "broken ? pair" in raw.decode()
    assert fake.last.body["messages"][-1]["content"] == "half ? a pair"


async def test_client_disconnect_cancels_the_upstream_request(fake, gateway):
    hang = Hang(first=chunk({"content": "slow"}))
    fake.queue(hang)
    server = await gateway(profile(fake.url))
    async with aiohttp.ClientSession() as s:
        r = await s.post(server.base_url + "/v1/messages", data=json.dumps({**BODY, "stream": True}), headers=AUTH)
        assert b"slow" in await r.content.readuntil(b"slow")
        r.close()
    await asyncio.wait_for(hang.closed.wait(), 5)
    await asyncio.sleep(0.1)
    [row] = rows(server, "outcome")
    assert row["outcome"] == "client_closed"


async def test_passthrough_folds_mid_conversation_system_unless_told_not_to(fake, gateway):
    body = {**BODY, "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "env"}]}
    msg = {"id": "m", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}],
           "model": "x", "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
    fake.default = Json(msg)
    url = fake.url.removesuffix("/v1")
    folded = await gateway(profile(url, kind="anthropic"))
    await post(folded, body=body)
    assert [m["role"] for m in fake.last.body["messages"]] == ["user"]
    kept = await gateway(profile(url, kind="anthropic", quirks={"merge_system": False}))
    status, _, raw = await post(kept, body=body)
    assert [m["role"] for m in fake.last.body["messages"]] == ["user", "system"]
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "ok"


async def test_passthrough_stream_cut_gets_an_error_event(fake, gateway):
    fake.queue(Stream([("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 1}}})],
                      events=True, cut=True))
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    assert status == 200 and raw.decode().rstrip().split("\n\n")[-1].startswith("event: error")


async def test_real_claude_code_request_reaches_the_upstream_clean(fake, gateway, wire_requests):
    fake.default = Stream(text_chunks("done"))
    server = await gateway(profile(fake.url))
    request = wire_requests[1]
    headers = {k: v for k, v in request["headers"].items() if k.lower() not in ("authorization", "accept-encoding", "connection")}
    status, _, raw = await post(server, path=request["path"], body=request["body"], headers={**headers, **AUTH})
    assert status == 200 and b"message_stop" in raw
    sent = fake.last.body
    assert sent["max_tokens"] == 8192
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool", ]
    assert "x-anthropic-billing-header" not in json.dumps(sent)


async def test_an_empty_stream_is_asked_again_without_streaming(fake, gateway):
    """llama-cpp-python answers 200 and closes an overflowing stream empty; only the
    unstreamed request says why."""
    overflow = Json({"error": {"message": "This model's maximum context length is 4096 tokens.",
                               "code": "context_length_exceeded"}}, status=400)
    # Told a smaller window than the profile says, the gateway tries once more within it.
    fake.queue(Stream([], done=False, comment=False), overflow, Stream([], done=False, comment=False), overflow)
    server = await gateway(profile(fake.url, context_window=65536))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    err = envelope(raw)
    assert status == 400 and err["message"].startswith("prompt is too long: ") and "> 4096 maximum" in err["message"]
    assert [r.body.get("stream") for r in fake.received] == [True, None, True, None]
    assert fake.received[2].body["max_tokens"] < 4096

    fake.queue(Stream([], done=False, comment=False), Json(completion({"content": "recovered"})))
    status, _, raw = await post(server, body={**BODY, "stream": True})
    assert status == 200 and b'"text":"recovered"' in raw and b"message_stop" in raw


async def test_an_upstream_quoting_the_key_does_not_leak_it(fake, gateway, tmp_path):
    fake.queue(Json({"error": {"message": f"Incorrect API key provided: {KEY}"}}, status=401))
    server = await gateway(profile(fake.url))
    status, _, raw = await post(server)
    assert status == 401 and KEY.encode() not in raw and b"[key redacted]" in raw
    for path in tmp_path.glob("usage.db*"):  # the WAL too
        assert KEY.encode() not in path.read_bytes()


@pytest.mark.parametrize("env,url,proxy", [
    ({}, "https://api.groq.com/openai/v1", None),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "https://api.groq.com/openai/v1", "http://proxy:3128"),
    ({"https_proxy": "http://p:1", "HTTP_PROXY": "http://q:2"}, "http://127.0.0.1:11434/v1", "http://q:2"),
    ({"ALL_PROXY": "http://all:9"}, "https://x.example/v1", "http://all:9"),
    ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".groq.com,localhost"}, "https://api.groq.com/openai/v1", None),
    ({"HTTP_PROXY": "http://proxy:3128", "no_proxy": "127.0.0.1"}, "http://127.0.0.1:8080/v1", None),
])
def test_the_proxy_comes_from_the_environment_once(env, url, proxy):
    from freeclaude.gateway.upstream import env_proxy
    assert env_proxy(url, env) == proxy


async def test_an_https_proxy_in_the_environment_carries_the_requests(fake, gateway):
    """HTTP_PROXY points at the fake, the profile at a port where nothing listens: only a request
    sent through the proxy can be answered."""
    fake.queue(Json(completion({"content": "via the proxy"})))
    proxy = fake.url.removesuffix("/v1")
    server = await gateway(profile("http://upstream.invalid:9/v1"), env={"FAKE_KEY": KEY, "HTTP_PROXY": proxy})
    status, _, raw = await post(server)
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "via the proxy"
    assert fake.last.headers["Host"] == "upstream.invalid:9"


@pytest.mark.parametrize("headers,metadata,sid", [
    ({"X-Claude-Code-Session-Id": "c904-5d1a"}, None, "c904-5d1a"),
    ({}, {"user_id": '{"device_id":"d","account_uuid":"","session_id":"s-123"}'}, "s-123"),
    ({}, {"user_id": "user_abc"}, None),
    ({}, {"user_id": "{not json"}, None),
    ({}, None, None),
])
async def test_claude_codes_session_id_reaches_the_ledger(fake, gateway, headers, metadata, sid):
    fake.queue(Json(completion({"content": "ok"})))
    server = await gateway(profile(fake.url))
    body = {**BODY, **({"metadata": metadata} if metadata else {})}
    status, _, _ = await post(server, body=body, headers={**AUTH, **headers})
    assert status == 200
    assert rows(server, "client_session") == [{"client_session": sid}]
