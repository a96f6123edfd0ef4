"""One attempt, one row: gateway/attempt.py's owner, driven as the server and vision drive it,
against a real loopback upstream and a real ledger."""

import asyncio

import pytest

from freeclaude.gateway.attempt import INTERNAL, request_id
from freeclaude.translate.errors import ApiError
from tests.conftest import rows
from tests.support.fakes import Json, Stream, completion, profile

BODY = {"model": "claude-sonnet-5-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def opened(server, body=BODY):
    """What the server opens for a request's first try: its plan, candidate, upstream and row."""
    plan = server.router.plan(body["model"], 10, body["max_tokens"])
    cand = plan.candidates[0]
    up = server.attempts.open(plan, cand, body, {}, None)
    row = server.attempts.row(plan, cand, request_id(), 0, stream=bool(body.get("stream")), client_session="s1")
    return cand, up, row, plan.estimate


async def test_the_first_word_on_how_it_went_is_the_row_and_later_ones_change_nothing(fake, gateway):
    fake.queue(Json(completion({"content": "hello"})))
    server = await gateway(profile(fake.url))
    cand, up, row, estimate = opened(server)
    async with server.attempts.run(row, cand, up, estimate) as attempt:
        await up.complete()
        await attempt.answered()
        attempt.failed(ApiError(502, "too late"))
        attempt.client_left()
    [got] = rows(server)
    assert (got["outcome"], got["status"], got["error"], got["output_tokens"]) == ("ok", 200, None, 5)


async def test_an_error_event_that_ended_the_stream_is_the_rows_outcome(fake, gateway):
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"))
    cand, up, row, estimate = opened(server, {**BODY, "stream": True})
    start = {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": [],
                                                  "usage": {"input_tokens": 7, "output_tokens": 1}}}
    fake.queue(Stream([("message_start", start),
                       ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})],
                      events=True))
    async with server.attempts.run(row, cand, up, estimate) as attempt:
        pieces = [p async for p in up.stream()]
        assert pieces[-1].last  # the error event ends the answer
        await attempt.answered()
    [got] = rows(server)
    assert (got["outcome"], got["status"]) == ("overloaded_error", 529) and "busy" in got["error"]


async def test_a_bug_of_ours_is_one_internal_error_row_and_the_client_is_told_only_that(fake, gateway):
    fake.queue(Json(completion({"content": "hello"})))
    server = await gateway(profile(fake.url))
    cand, up, row, estimate = opened(server)
    with pytest.raises(ApiError) as e:
        async with server.attempts.run(row, cand, up, estimate):
            await up.complete()
            raise KeyError("oops")
    assert (e.value.status, e.value.message) == (500, INTERNAL)
    [got] = rows(server)
    assert (got["outcome"], got["status"], got["error"]) == ("internal_error", 500, "KeyError: 'oops'")


async def test_a_client_that_leaves_before_the_answer_is_client_closed_and_after_it_is_ok(fake, gateway):
    server = await gateway(profile(fake.url))

    async def leave(answer_first: bool) -> None:
        fake.queue(Json(completion({"content": "hello"})))
        cand, up, row, estimate = opened(server)
        async with server.attempts.run(row, cand, up, estimate) as attempt:
            await up.complete()
            if answer_first:
                await attempt.answered()
            raise asyncio.CancelledError  # what aiohttp raises in a handler whose client hung up

    for answer_first in (False, True):
        with pytest.raises(asyncio.CancelledError):
            await leave(answer_first)
    assert [(r["outcome"], r["status"]) for r in rows(server)] == [("client_closed", None), ("ok", 200)]


async def test_a_failure_before_the_answer_is_recorded_with_the_upstreams_words(fake, gateway):
    fake.queue(Json({"error": {"message": "upstream says no"}}, status=503))
    server = await gateway(profile(fake.url))
    cand, up, row, estimate = opened(server)
    with pytest.raises(ApiError) as e:
        async with server.attempts.run(row, cand, up, estimate):
            await up.complete()
    [got] = rows(server)
    assert (got["outcome"], got["status"], got["error"]) == (e.value.type, e.value.status, e.value.message)
    assert "upstream says no" in got["error"]
    assert got["input_tokens"] == 0 and got["usage_estimated"] == 0  # nothing generated, nothing billed
