"""Reasoning as providers stream it, beyond a plain text field: OpenRouter's reasoning_details
entries and content given as a list of parts (Mistral's thinking parts)."""

from typing import Any


def details_text(details: object) -> str:
    """OpenRouter's reasoning_details: readable text and summaries; encrypted parts are skipped."""
    if not isinstance(details, list):
        return ""
    return "".join(_str(d.get("text")) or _str(d.get("summary"))
                   for d in details if isinstance(d, dict) and d.get("type") in ("reasoning.text", "reasoning.summary"))


def merged_details(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streamed reasoning_details as whole entries: fragments of one entry (same index) joined."""
    out: list[dict[str, Any]] = []
    by_index: dict[object, dict[str, Any]] = {}
    for d in details:
        key = d.get("index")
        prev = by_index.get(key) if key is not None else None
        if prev is None or prev.get("type") != d.get("type"):
            prev = dict(d)
            out.append(prev)
            if key is not None:
                by_index[key] = prev
            continue
        for field, value in d.items():
            if field in ("text", "summary", "data") and isinstance(value, str) and isinstance(prev.get(field), str):
                prev[field] += value
            elif value is not None:
                prev[field] = value
    return out


def parts_text(parts: object) -> str:
    if not isinstance(parts, list):
        return ""
    return "".join(_str(p.get("text")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


def _str(value: object) -> str:
    """A field the upstream should have sent as a string; anything else holds no text."""
    return value if isinstance(value, str) else ""
