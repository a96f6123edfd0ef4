"""Failures -> Anthropic errors: the envelope, the type for each status, context overflow."""

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# Upstream status -> the status we answer with. Claude Code retries 429, 5xx and 529 itself.
# An upstream's 413 becomes a 400: Claude Code shows any 413 as "Request too large (max 32MB)".
_UPSTREAM_STATUS = {402: 403, 408: 504, 409: 500, 413: 400, 422: 400, 503: 529, 529: 529, 504: 504}
_OVERFLOW = re.compile(
    r"context.length|context_length|maximum context|context size|context window|prompt is too long"
    r"|too many tokens|reduce the length|input is too long|exceeds? the (?:available|maximum)",
    re.I,
)


class ApiError(Exception):
    """An error we answer with, in Anthropic's envelope."""

    def __init__(self, status: int, message: str, *, type: str | None = None, retry_after: float | None = None,
                 internal: bool = False) -> None:
        super().__init__(message)
        self.internal = internal  # our own fault: another model would not help
        self.status = status
        self.type = type or _BY_STATUS.get(status) or ("invalid_request_error" if status < 500 else "api_error")
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return envelope(self.type, self.message)

    @property
    def retryable(self) -> bool:
        """Worth trying the next model for: rate limits, server failures, timeouts, no connection."""
        return not self.internal and (self.status == 429 or self.status >= 500)


def envelope(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def too_long(tokens: int, maximum: int, detail: str = "") -> ApiError:
    # Claude Code reads this exact wording as "compact the conversation".
    return ApiError(400, f"prompt is too long: {tokens} tokens > {maximum} maximum" + (f" ({detail})" if detail else ""))


def upstream_message(body: str) -> str:
    """The human part of an upstream error body, whatever its shape."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500] or "no details"
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg")
            raw = (err.get("metadata") or {}).get("raw") if isinstance(err.get("metadata"), dict) else None
            if msg and raw:
                msg = f"{msg}: {raw}"
            if msg:
                return str(msg)[:500]
        elif isinstance(err, str):
            return err[:500]
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail[:500]
    return body.strip()[:500]


_LIMIT = re.compile(r"(?:context length is|context window (?:of|is)|context size (?:of|is)|n_ctx\W{0,3}|\bLimit)\s*(\d+)", re.I)
# Groq and others count prompt + max_tokens against a tokens-per-minute budget before running
# the model; "Limit N, Requested M" with M > N can never pass, however long one waits.
_TOKEN_BUDGET = re.compile(r"\bLimit\s*(\d+),\s*(?:Used\s*\d+,\s*)?Requested\s*(\d+)", re.I)


def token_budget(message: str) -> tuple[int, int] | None:
    """(limit, requested) where an upstream refused a request for its token budget."""
    match = _TOKEN_BUDGET.search(message)
    return (int(match.group(1)), int(match.group(2))) if match else None


def is_overflow(message: str) -> bool:
    return bool(_OVERFLOW.search(message))


def overflow_limit(message: str) -> int | None:
    """The window an upstream says it has, when its overflow error names one."""
    match = _LIMIT.search(message)
    return int(match.group(1)) if match else None


def from_upstream(status: int, body: str, where: str, retry_after: float | None = None) -> ApiError:
    """An upstream's HTTP error; `where` names provider and model for the user."""
    text = upstream_message(body)
    budget = token_budget(text)
    if budget and status in (413, 429) and budget[1] > budget[0]:
        return too_long(budget[1], budget[0], f"{where} counts prompt + max_tokens against its tokens-per-minute limit: {text}")
    ours = _UPSTREAM_STATUS.get(status, status)
    if ours not in _BY_STATUS:
        ours = 500 if status >= 500 else 400
    return ApiError(ours, f"{where} answered {status}: {text}", retry_after=retry_after)


def from_stream_error(error: Mapping[str, Any], where: str) -> ApiError:
    """An error object inside a 200 stream (OpenRouter does this)."""
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return from_upstream(status, json.dumps({"error": error}), where)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date) or retry-after-ms."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
