"""What a provider's rate-limit headers say of its budgets: for each limit (rpm, rpd, tpm, tph,
tpd), its value, what remains of it and in how many seconds it is back to full. Pure: headers in,
readings out. Read on every answer, errors included; limits.py keeps them.

The families, as each provider documents them (checked 2026-12-02):
- OpenAI-style `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: tokens per minute, and
  requests per minute at OpenAI but per day at Groq ("Always refers to Requests Per Day (RPD)",
  console.groq.com/docs/rate-limits), which the `requests_header` quirk says. The reset is a Go
  duration: `7.66s`, `2m59.56s`, `120ms`.
- The window written out, `x-ratelimit-{limit,remaining,reset}-{requests,tokens}-{minute,hour,day}`:
  Cerebras sends `-requests-day` and `-tokens-minute` on every response, the reset in seconds as a
  float (`11.382867097854614`; inference-docs.cerebras.ai/support/rate-limits). Mistral writes
  `req` for requests (its clients read `x-ratelimit-remaining-req-minute`).
- Bare `X-RateLimit-{Limit,Remaining,Reset}`: OpenRouter, on the error response only, the reset an
  epoch time in milliseconds (openrouter.ai/docs/api_reference/limits). It says nothing of the
  window, so it is kept as a budget of requests of unknown window, `"requests"`: what remains until
  the reset, never a limit's value.
- `anthropic-ratelimit-requests-{limit,remaining,reset}`: requests per minute, the reset an RFC 3339
  time (docs.anthropic.com/en/api/rate-limits). Its token families (input, output) are not one
  budget of prompt plus max_tokens, so they are not read.
"""

import datetime
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

UNKNOWN_WINDOW = "requests"  # a requests budget whose window the headers do not say
_WINDOWS = {"minute": "m", "hour": "h", "day": "d"}
_OPENAI = re.compile(r"x-ratelimit-(limit|remaining|reset)-(requests|req|tokens)(?:-(minute|hour|day))?\Z")
_BARE = re.compile(r"x-ratelimit-(limit|remaining|reset)\Z")
_ANTHROPIC = re.compile(r"anthropic-ratelimit-requests-(limit|remaining|reset)\Z")
_GO_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?\Z")


@dataclass(frozen=True)
class Reading:
    """One budget as the provider stated it. Any part may be missing."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # seconds from when it was read until the budget is back to full


def read(headers: Mapping[str, str], requests_header: str = "rpm", now: float | None = None) -> dict[str, Reading]:
    """The budgets these headers state, by limit name; `requests_header` is the limit that a
    requests header without a window counts ("rpm" as OpenAI, "rpd" as Groq)."""
    parts: dict[str, dict[str, str]] = {}
    for raw, value in headers.items():
        name = raw.lower()
        if "ratelimit" not in name:
            continue
        if m := _OPENAI.match(name):
            field, unit, window = m.groups()
            if window:
                limit = ("r" if unit != "tokens" else "t") + "p" + _WINDOWS[window]
            else:
                limit = "tpm" if unit == "tokens" else requests_header
        elif m := _BARE.match(name):
            field, limit = m.group(1), UNKNOWN_WINDOW
        elif m := _ANTHROPIC.match(name):
            field, limit = m.group(1), "rpm"
        else:
            continue
        parts.setdefault(limit, {})[field] = value.strip()
    now = time.time() if now is None else now
    out = {}
    for limit, fields in parts.items():
        reading = Reading(_count(fields.get("limit")), _count(fields.get("remaining")), seconds(fields.get("reset"), now))
        if reading != Reading():
            out[limit] = reading
    return out


def _count(value: str | None) -> int | None:
    try:
        return max(0, int(float(value))) if value is not None else None
    except (ValueError, OverflowError):  # not a number, or nan / inf
        return None


def seconds(value: str | None, now: float) -> float | None:
    """A reset as seconds from `now`: a Go duration, plain seconds, an epoch time (seconds or
    milliseconds), or an RFC 3339 time."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number != number or abs(number) == float("inf"):
            return None
        if number > 1e12:  # epoch milliseconds
            return max(0.0, number / 1000 - now)
        if number > 1e9:  # epoch seconds
            return max(0.0, number - now)
        return max(0.0, number)
    m = _GO_DURATION.match(value)
    if m and any(m.groups()):
        h, mins, s, ms = (float(g) if g else 0.0 for g in m.groups())
        return h * 3600 + mins * 60 + s + ms / 1000
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now)


def spent_for(readings: dict[str, Reading] | None) -> float | None:
    """Seconds until the budgets a refusal says are used up are back: for a 429 that names no
    Retry-After (OpenRouter's carry only X-RateLimit-*)."""
    resets = [r.reset for r in (readings or {}).values() if r.remaining == 0 and r.reset is not None]
    return max(resets, default=None)
