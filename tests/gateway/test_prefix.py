"""A prefix that stays cached: consecutive requests of one Claude Code session reach the upstream
as bodies that are the same bytes up to the new turn, translated to Chat Completions or passed
through to a Messages API. Providers cache exact prefixes (Groq: console.groq.com/docs/prompt-caching;
Cerebras keeps uncached tokens in a bucket of their own), so every byte that moves costs the turns
after it. Replayed through the gateway from recorded sessions of the real Claude Code: 2.1.330's
write/read/edit/read loop (tests/support/capture_session.py) and 2.1.328's first two requests."""

import json

import aiohttp
import pytest

from tests.conftest import TOKEN, WIRE
from tests.support.fakes import Json, Stream, completion, profile, text_chunks

SESSION = json.loads((WIRE / "sessions" / "claude-code-2.1.330.json").read_text())
TURNS = {
    "2.1.330": [r["body"] for r in SESSION["requests"]
                if r["body"]["messages"][0] == SESSION["requests"][-1]["body"]["messages"][0]],
    "2.1.328": [json.loads(p.read_text())["body"] for p in sorted(WIRE.glob("claude-code-2.1.328-request-*.json"))],
}


def without_cache_markers(value):
    """A Messages body without its cache_control markers, which Claude Code moves to the newest
    turn on every request by design: they say where a cache may end, they are not part of the
    prompt. Anthropic keys its cache on the content before each marker, the compatible endpoints
    ignore them, so a moving marker keeps the cache; dropping them would lose Anthropic's."""
    if isinstance(value, dict):
        return {k: without_cache_markers(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_markers(v) for v in value]
    return value


def up_to_the_last_message(raw: bytes, kind: str) -> bytes:
    """The bytes of an upstream body up to the end of its last message: the next request of the
    session must start with them. Everything but max_tokens and stream comes before the messages."""
    body = json.loads(raw)
    if kind == "anthropic":
        body = without_cache_markers(body)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    keys = list(body)
    assert keys.index("messages") > max(keys.index(k) for k in ("tools", "model",
                                                                *(["system"] if "system" in body else []))), keys
    last = json.dumps(body["messages"][-1], separators=(",", ":"), ensure_ascii=False)
    return text[:text.rindex(last) + len(last)].encode()


def answer(kind: str):
    if kind == "openai":
        return lambda body: Stream(text_chunks("Done.")) if body.get("stream") else Json(completion({"content": "Done."}))
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "up",
               "content": [{"type": "text", "text": "Done."}],
               "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 2}}
    return lambda body: Json(message)


@pytest.mark.parametrize("version", sorted(TURNS))
@pytest.mark.parametrize("kind, quirks", [
    ("openai", {"merge_system": True}), ("openai", {"merge_system": False}),
    ("openai", {"reserves_max_tokens": True, "merge_system": True}),
    ("anthropic", {"merge_system": False}), ("anthropic", {"merge_system": True}),
])
async def test_consecutive_requests_are_the_same_bytes_up_to_the_new_turn(fake, gateway, version, kind, quirks):
    fake.default = answer(kind)
    url = fake.url if kind == "openai" else fake.url.removesuffix("/v1")
    server = await gateway(profile(url, kind=kind, quirks=quirks, context_window=200_000, max_output_tokens=64_000,
                                   tpm=400_000))  # no wait: the bound (50,000) below the ceiling all the same
    async with aiohttp.ClientSession() as s:
        for body in TURNS[version]:
            async with s.post(server.base_url + "/v1/messages", json=dict(body, stream=False),
                              headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                assert r.status == 200, await r.text()
    sent = [r.raw for r in fake.received]
    assert len(sent) == len(TURNS[version]) >= 2
    for before, after in zip(sent, sent[1:]):
        prefix = up_to_the_last_message(before, kind)
        later = json.dumps(without_cache_markers(json.loads(after)) if kind == "anthropic" else json.loads(after),
                           separators=(",", ":"), ensure_ascii=False).encode()
        assert later.startswith(prefix), _where(prefix, later)
        if kind == "openai":
            assert after.startswith(prefix)  # the bytes as sent, not re-serialized


def _where(a: bytes, b: bytes) -> str:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"the bytes differ at {n}: ...{a[max(0, n - 120):n + 80]!r}\n  then ...{b[max(0, n - 120):n + 80]!r}"
