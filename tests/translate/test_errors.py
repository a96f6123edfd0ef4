import time
from email.utils import formatdate

import pytest

from freeclaude.translate.errors import from_stream_error, from_upstream, is_overflow, retry_after, too_long, upstream_message


@pytest.mark.parametrize("status,ours,kind", [
    (400, 400, "invalid_request_error"), (401, 401, "authentication_error"), (402, 403, "permission_error"),
    (403, 403, "permission_error"), (404, 404, "not_found_error"), (408, 504, "timeout_error"),
    (413, 400, "invalid_request_error"), (422, 400, "invalid_request_error"), (429, 429, "rate_limit_error"),
    (500, 500, "api_error"), (502, 502, "api_error"), (503, 529, "overloaded_error"), (504, 504, "timeout_error"),
    (529, 529, "overloaded_error"), (418, 400, "invalid_request_error"), (599, 500, "api_error"),
])
def test_status_mapping(status, ours, kind):
    e = from_upstream(status, '{"error": {"message": "nope"}}', "groq (llama)")
    assert (e.status, e.type) == (ours, kind)
    assert e.message == f"groq (llama) answered {status}: nope"
    assert e.body() == {"type": "error", "error": {"type": kind, "message": e.message}}


@pytest.mark.parametrize("body,message", [
    ('{"error": {"message": "Rate limit", "code": 429}}', "Rate limit"),
    ('{"error": {"message": "Provider returned error", "metadata": {"raw": "upstream busy"}}}',
     "Provider returned error: upstream busy"),
    ('{"detail": "Not Found"}', "Not Found"),
    ('{"error": "plain string"}', "plain string"),
    ("<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
    ("", "no details"),
])
def test_upstream_message_shapes(body, message):
    assert upstream_message(body) == message


@pytest.mark.parametrize("text", [
    "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens",
    "the request exceeds the available context size, try increasing it",
    "context_length_exceeded", "Input is too long for requested model",
])
def test_overflow_messages(text):
    assert is_overflow(text)


def test_too_long_wording_claude_code_understands():
    e = too_long(40000, 32000)
    assert e.status == 400 and e.type == "invalid_request_error"
    assert e.message.startswith("prompt is too long: 40000 tokens > 32000 maximum")


def test_stream_error_code_used_as_status():
    assert from_stream_error({"message": "slow down", "code": 429}, "or").status == 429
    assert from_stream_error({"message": "?"}, "or").status == 500


def test_retry_after_forms():
    assert retry_after({"retry-after": "7"}) == 7
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert 25 <= retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)}) <= 31
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


@pytest.mark.parametrize("message,limit", [
    ("This model's maximum context length is 4096 tokens. However, you requested 8348 tokens", 4096),
    ("Requested tokens (9000) exceed context window of 8192", 8192),
    ("the request exceeds the available context size, try increasing it", None),
])
def test_overflow_limit(message, limit):
    from freeclaude.translate.errors import overflow_limit
    assert overflow_limit(message) == limit


def test_a_token_budget_that_can_never_pass_reads_as_prompt_too_long():
    body = ('{"error":{"message":"Request too large for model `openai/gpt-oss-120b` in organization `org_1` service tier '
            '`on_demand` on tokens per minute (TPM): Limit 8000, Requested 33012, please reduce your message size and try '
            'again.","type":"tokens","code":"rate_limit_exceeded"}}')
    e = from_upstream(413, body, "groq (openai/gpt-oss-120b)")
    assert (e.status, e.type) == (400, "invalid_request_error")
    assert e.message.startswith("prompt is too long: 33012 tokens > 8000 maximum") and "tokens-per-minute" in e.message
    # a minute that is merely used up is a rate limit: waiting helps
    busy = from_upstream(429, body.replace("Requested 33012", "Used 7000, Requested 2000"), "groq (x)")
    assert busy.status == 429
