"""Upstream deadlines, against loopback upstreams that stall on cue: one for the first event,
one between events; SSE comment lines and Anthropic's pings count for neither."""

import asyncio
import json
import time

import anthropic
import pytest

from freeclaude.gateway.deadline import Deadline
from freeclaude.profiles.providers import LOCAL_TIMEOUTS, Provider
from freeclaude.profiles.schema import parse
from freeclaude.profiles.store import templates
from tests.conftest import rows
from tests.support.fakes import Raw, Stream, chunk, profile, text_chunks

BODY = dict(model="claude-opus-5-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
KEEPALIVES = [b": keepalive\n\n"] * 50  # one every 0.2 s: ten seconds of them


def data(obj) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


async def test_keep_alive_comments_do_not_hold_off_the_first_event_deadline(fake, gateway, sdk):
    fake.queue(Raw(KEEPALIVES, pause=0.2), Stream(text_chunks("from the next model")))
    p = profile(fake.url, tiers={"opus": ["fake:up-model", "fake:other"]}, extra_models={"other": {}}, timeout=1)
    server = await gateway(p)
    start = time.monotonic()
    async with sdk(server).messages.stream(**BODY) as stream:
        message = await stream.get_final_message()
    assert message.content[0].text == "from the next model" and time.monotonic() - start < 2.5
    first, _ = rows(server)
    assert first["status"] == 504 and first["error"] == "fake:up-model sent no answer within 1 s (its timeout)"


async def test_a_stream_that_stalls_mid_answer_ends_with_an_error(fake, gateway, sdk):
    fake.queue(Raw([data(chunk({"role": "assistant", "content": "Hel"}))] + KEEPALIVES, pause=0.2))
    server = await gateway(profile(fake.url, timeout=5, idle_timeout=0.5))
    start = time.monotonic()
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with sdk(server).messages.stream(**BODY) as stream:
            async for event in stream:
                seen.append(event.type)
    assert "content_block_delta" in seen and time.monotonic() - start < 2.0
    assert "sent nothing for 0.5 s mid-answer (its idle_timeout)" in str(caught.value)
    [row] = rows(server)
    assert row["status"] == 504 and row["outcome"] == "timeout_error"


async def test_a_prefill_longer_than_the_idle_timeout_is_waited_for(fake, gateway, sdk):
    fake.queue(Raw([data(c) for c in text_chunks("worth the wait")] + [b"data: [DONE]\n\n"], silence=1.0))
    server = await gateway(profile(fake.url, timeout=5, idle_timeout=0.3))
    async with sdk(server).messages.stream(**BODY) as stream:
        message = await stream.get_final_message()
    assert message.content[0].text == "worth the wait"


async def test_anthropic_pings_do_not_hold_off_the_first_event_deadline(fake, gateway, sdk):
    ping = b'event: ping\ndata: {"type": "ping"}\n\n'
    fake.queue(Raw([ping] * 50, pause=0.2))
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic", timeout=1))
    start = time.monotonic()
    with pytest.raises(anthropic.APIStatusError) as caught:  # the pings were passed on: an error event
        async for _ in await sdk(server).messages.create(**BODY, stream=True):
            pass
    assert "sent no answer within 1 s" in str(caught.value) and time.monotonic() - start < 2.5


async def test_the_client_holding_the_stream_up_is_not_the_upstream_stalling():
    """While what came is handed on (pause), the idle deadline does not run."""
    clock = Deadline(first=5, idle=0.2)
    clock.event()
    clock.pause()
    await asyncio.sleep(0.5)
    clock.resume()
    await asyncio.sleep(0.1)
    clock.event()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(0.5)  # nothing for 0.2 s: the task reading the upstream is cancelled
    assert clock.caused(asyncio.current_task())
    clock.cancel()


def provider(url: str, **settings) -> Provider:
    p = parse({"providers": {"x": {"kind": "openai", "base_url": url, "models": {"m": {}}, **settings}},
               "tiers": {"default": ["x:m"]}}, "t", "test")
    return p.providers["x"]


def test_timeouts_for_cloud_and_local_and_as_the_profile_says():
    cloud = provider("https://api.example.com/v1")
    assert (cloud.timeout, cloud.idle_timeout) == (Provider.timeout, Provider.idle_timeout) == (180, 120)
    for url in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://192.168.1.20:8000/v1"):
        local = provider(url)
        assert {"timeout": local.timeout, "idle_timeout": local.idle_timeout} == LOCAL_TIMEOUTS
    own = provider("http://127.0.0.1:8080/v1", timeout=30, idle_timeout=5)
    assert (own.timeout, own.idle_timeout) == (30, 5)
    with pytest.raises(Exception, match="idle_timeout must be a positive number"):
        provider("https://api.example.com/v1", idle_timeout=0)


def test_every_template_has_timeouts_for_where_it_runs():
    for name, data in templates().items():
        for p in parse(data, name, name).providers.values():
            local = Provider.is_local(p.base_url)
            assert p.timeout >= (LOCAL_TIMEOUTS["timeout"] if local else 60), name
            assert p.idle_timeout >= (LOCAL_TIMEOUTS["idle_timeout"] if local else 60), name
