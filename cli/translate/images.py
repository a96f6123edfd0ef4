"""Images for a model that cannot see them (its quirks say images = false): each image block, in a
user turn or inside a tool_result, is replaced by a text block — a description from the profile's
vision chain, or a note that it could not be seen. Pure: finding the images, keying them, the
request that asks for a description, the replacement. vision.py asks and caches.
"""

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

PROMPT = ("Describe this image for someone who cannot see it and has to act on it. Copy any text in it exactly "
          "(code, error messages, labels, numbers). Then say what it shows: layout, diagrams, charts and their "
          "values, UI elements and their state. Reply with the description only.")
MAX_TOKENS = 2048


def key(block: Mapping[str, Any]) -> str:
    """The same image always has the same key: a hash of its source."""
    src = block.get("source") or {}
    if src.get("type") == "url":
        raw = "url\0" + str(src.get("url", ""))
    else:
        raw = f"{src.get('type')}\0{src.get('media_type', '')}\0{src.get('data') or src.get('file_id') or ''}"
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def find(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every distinct image of the request, by key, in order of appearance."""
    found: dict[str, dict[str, Any]] = {}
    for block in _image_blocks(body):
        found.setdefault(key(block), block)
    return found


def _image_blocks(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for m in body.get("messages") or ():
        content = m.get("content")
        if m.get("role") != "user" or not isinstance(content, list):
            continue
        for b in content:
            if b.get("type") == "image":
                yield b
            elif b.get("type") == "tool_result" and isinstance(b.get("content"), list):
                yield from (x for x in b["content"] if x.get("type") == "image")


def replace(body: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """The request with each image a text block (`texts` by image key); nothing else changes."""
    def swap(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for b in blocks:
            if b.get("type") == "image":
                b = {"type": "text", "text": texts[key(b)]}
            elif b.get("type") == "tool_result" and isinstance(b.get("content"), list):
                b = dict(b, content=swap(b["content"]))
            out.append(b)
        return out

    messages = [dict(m, content=swap(m["content"])) if m.get("role") == "user" and isinstance(m.get("content"), list)
                else m for m in body["messages"]]
    return dict(body, messages=messages)


def request(block: Mapping[str, Any]) -> dict[str, Any]:
    """What the vision model is asked: the image and the prompt, not streamed."""
    image = {k: v for k, v in block.items() if k != "cache_control"}
    return {"model": "vision", "max_tokens": MAX_TOKENS, "stream": False,
            "messages": [{"role": "user", "content": [image, {"type": "text", "text": PROMPT}]}]}


def described(by: str, text: str) -> str:
    return f"[image described by {by}: {text.strip()}]"


def unseen(reason: str) -> str:
    return f"[image not shown: {reason}; tell the user if it matters]"
