"""Provider state that must survive Claude Code's history, which keeps only Anthropic blocks.

Two things Claude Code sends back verbatim carry it: a thinking block's signature holds the
reasoning text (gone from the block when Claude Code asks for `display: "omitted"`) and
OpenRouter's reasoning_details; a tool_use id holds Gemini's thought_signature for that call.
Both are restored on the way up (request.py), each only where the provider wants it.
"""

import base64
import json
import zlib
from typing import Any, TypedDict

PREFIX = "fc1."  # a signature we made; anything else is an upstream's own (passthrough)
LEGACY = "freeclaude"  # what earlier versions signed with, carrying nothing
_SIG_MARK = "__fcs_"  # separates a tool id from the thought signature riding in it


class Sealed(TypedDict, total=False):
    """What a thinking block's signature carries."""

    p: str  # the provider that wrote the reasoning
    r: str  # the reasoning text
    d: list[dict[str, Any]]  # OpenRouter's reasoning_details, whole entries


def seal(provider: str, reasoning: str, details: list[dict[str, Any]] | None = None) -> str:
    state: Sealed = {"p": provider, "r": reasoning}
    if details:
        state["d"] = details
    raw = zlib.compress(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unseal(signature: object) -> Sealed:
    """The state in a signature we made; {} for anything else, a damaged one included. A client
    sends signatures back, so each field is checked: one of the wrong type is dropped."""
    if not isinstance(signature, str) or not signature.startswith(PREFIX):
        return {}
    data = signature[len(PREFIX):]
    try:
        state = json.loads(zlib.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
    except (ValueError, zlib.error):
        return {}
    if not isinstance(state, dict):
        return {}
    out: Sealed = {}
    provider, reasoning, details = state.get("p"), state.get("r"), state.get("d")
    if isinstance(provider, str):
        out["p"] = provider
    if isinstance(reasoning, str):
        out["r"] = reasoning
    if isinstance(details, list) and all(isinstance(d, dict) for d in details):
        out["d"] = details
    return out


def ours(signature: object) -> bool:
    return isinstance(signature, str) and (signature.startswith(PREFIX) or signature == LEGACY)


def with_signature(tool_id: str, thought_signature: str) -> str:
    """A tool_use id that carries the call's thought signature (ids allow [A-Za-z0-9_-] only)."""
    packed = base64.urlsafe_b64encode(thought_signature.encode()).decode().rstrip("=")
    return f"{tool_id}{_SIG_MARK}{packed}"


def split_id(tool_id: str) -> tuple[str, str | None]:
    """The upstream's own id and the thought signature riding in it, if any."""
    head, mark, packed = tool_id.partition(_SIG_MARK)
    if not mark:
        return tool_id, None
    try:
        return head, base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return head, None
