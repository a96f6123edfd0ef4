"""One upstream attempt against a real loopback upstream: what it yields, and when."""

import aiohttp

from freeclaude.gateway.upstream import Endpoint, open_upstream
from tests.conftest import KEY
from tests.support.fakes import Stream, profile, text_chunks

BODY = {"model": "claude-sonnet-5-5", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}


async def test_the_first_events_go_out_alone_when_one_read_holds_many_chunks(fake):
    fake.queue(Stream(text_chunks("abcdefghijklmnopqrst", n=20), together=True))
    p = profile(fake.url)
    [model] = p.models()
    async with aiohttp.ClientSession() as session:
        up = open_upstream(session, Endpoint(p.provider(model), KEY, {}), model, BODY, max_tokens=100, estimate=10,
                           client_headers={})
        pieces = [piece async for piece in up.stream()]
    first = pieces[0].data.decode()
    # the first chunk's events only; the other nineteen go out after it
    assert first.count("event: content_block_delta") == 1 and '"text":"a"' in first
    assert b"".join(p.data for p in pieces).decode().count("event: content_block_delta") == 20
    # only the last piece says so, and the receipt has the usage before it goes out
    assert [p.last for p in pieces] == [False] * (len(pieces) - 1) + [True]
    assert up.receipt.usage.output == 5
