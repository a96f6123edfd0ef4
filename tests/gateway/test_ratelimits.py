"""Rate-limit headers as each provider sends them become one reading per budget."""

import pytest

from freeclaude.gateway.ratelimits import Reading, read, seconds

NOW = 1_800_000_000.0


def test_groq_requests_count_the_day_and_tokens_the_minute():
    # console.groq.com/docs/rate-limits: the page's own example values
    headers = {"x-ratelimit-limit-requests": "14400", "x-ratelimit-limit-tokens": "18000",
               "x-ratelimit-remaining-requests": "14370", "x-ratelimit-remaining-tokens": "17997",
               "x-ratelimit-reset-requests": "2m59.56s", "x-ratelimit-reset-tokens": "7.66s", "retry-after": "2"}
    assert read(headers, "rpd", NOW) == {"rpd": Reading(14400, 14370, pytest.approx(179.56)),
                                         "tpm": Reading(18000, 17997, pytest.approx(7.66))}
    assert set(read(headers, "rpm", NOW)) == {"rpm", "tpm"}  # OpenAI's reading of the same names


def test_cerebras_names_each_window_and_resets_in_float_seconds():
    # inference-docs.cerebras.ai/support/rate-limits: the page's example, capitalised as HTTP may
    headers = {"X-RateLimit-Limit-Requests-Day": "1000000000", "x-ratelimit-limit-tokens-minute": "1000000000",
               "x-ratelimit-remaining-requests-day": "999997455", "x-ratelimit-remaining-tokens-minute": "999998298",
               "x-ratelimit-reset-requests-day": "33011.382867097855", "x-ratelimit-reset-tokens-minute": "11.382867097854614"}
    got = read(headers, now=NOW)
    assert got["rpd"] == Reading(1_000_000_000, 999_997_455, pytest.approx(33011.38, abs=0.01))
    assert got["tpm"] == Reading(1_000_000_000, 999_998_298, pytest.approx(11.38, abs=0.01))


def test_mistral_writes_req_for_requests():
    got = read({"x-ratelimit-limit-req-minute": "120", "x-ratelimit-remaining-req-minute": "84",
                "x-ratelimit-limit-tokens-hour": "600000"}, now=NOW)
    assert got == {"rpm": Reading(120, 84, None), "tph": Reading(600000, None, None)}


def test_openrouter_bare_headers_are_a_budget_of_unknown_window_with_an_epoch_reset():
    got = read({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int((NOW + 42) * 1000))},
               now=NOW)
    assert got == {"requests": Reading(20, 0, pytest.approx(42))}


def test_anthropic_requests_per_minute_reset_at_a_time():
    got = read({"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "49",
                "anthropic-ratelimit-requests-reset": "2027-01-15T08:00:30Z",
                "anthropic-ratelimit-input-tokens-limit": "30000"}, now=1_800_000_000.0)
    assert got["rpm"].limit == 50 and got["rpm"].remaining == 49 and got["rpm"].reset > 0
    assert set(got) == {"rpm"}  # its token budgets are not prompt + max_tokens: not read


@pytest.mark.parametrize("value, expected", [
    ("7.66s", 7.66), ("2m59.56s", 179.56), ("120ms", 0.12), ("1h2m3s", 3723.0), ("6m0s", 360.0), ("0s", 0.0),
    ("11.5", 11.5), (str(NOW + 30), 30.0), (str((NOW + 30) * 1000), 30.0), ("soon", None), ("", None), (None, None),
    ("nan", None), ("-3", 0.0),
])
def test_resets(value, expected):
    assert seconds(value, NOW) == (pytest.approx(expected) if expected is not None else None)


def test_nonsense_is_left_out():
    assert read({"x-ratelimit-limit-tokens": "lots", "x-ratelimit-remaining-tokens": "nan", "content-type": "text/plain",
                 "x-ratelimit-limit-images": "5"}, now=NOW) == {}


def test_the_wait_a_refusal_names_in_its_budgets():
    from freeclaude.gateway.ratelimits import spent_for

    assert spent_for({"rpm": Reading(20, 0, 12.0), "rpd": Reading(50, 0, 3600.0), "tpm": Reading(8000, 10, 5.0)}) == 3600.0
    assert spent_for({"tpm": Reading(8000, 10, 5.0)}) is None and spent_for(None) is None
