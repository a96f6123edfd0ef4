"""A tokenizer-free estimate of a request's input tokens.

Used to choose a model whose window fits, to clamp max_tokens, and for count_tokens. It counts
letter runs of up to 7, digit runs of up to 3, runs of up to 3 JSON punctuation characters and
every other non-space character as one token each, plus a small overhead per message and tool.
Calibrated against SmolLM2's 49k-vocabulary BPE; larger vocabularies need fewer tokens, so for
most models it errs high, the safe side. The README gives its measured error.
"""

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r'[A-Za-z]{1,7}|\d{1,3}|["{}:,]{1,3}|[^\sA-Za-z\d]')
IMAGE_TOKENS = 1600  # Anthropic's estimate for an image of typical size
_PER_MESSAGE = 4
_PER_TOOL = 8


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


@functools.lru_cache(maxsize=512)  # bounded: the strings it keeps can be large
def count_text(text: str) -> int:
    # Cached: Claude Code resends the same system prompt, tools and history every turn.
    return len(_TOKEN.findall(text))


def estimate(body: Mapping[str, Any]) -> int:
    texts: list[str] = []
    extra = 0
    system = body.get("system")
    if system:
        extra += _content(system, texts)
    for msg in body.get("messages") or ():
        extra += _PER_MESSAGE + _content(msg.get("content"), texts)
    for tool in body.get("tools") or ():
        extra += _PER_TOOL
        texts.append(_str(tool.get("name")))
        texts.append(_str(tool.get("description")))
        if tool.get("input_schema"):
            texts.append(json.dumps(tool["input_schema"], ensure_ascii=False))
    return sum(map(count_text, texts)) + extra


def _content(content: object, texts: list[str]) -> int:
    """Appends the content's text; returns tokens counted another way (images)."""
    if isinstance(content, str):
        texts.append(content)
        return 0
    if not isinstance(content, list):
        return 0
    extra = 0
    for block in content:
        kind = block.get("type")
        if kind == "text":
            texts.append(_str(block.get("text")))
        elif kind == "image":
            extra += IMAGE_TOKENS
        elif kind == "tool_use":
            texts.append(_str(block.get("name")))
            texts.append(json.dumps(block.get("input") or {}, ensure_ascii=False))
        elif kind == "tool_result":
            extra += _content(block.get("content"), texts)
        elif kind == "thinking":
            texts.append(_str(block.get("thinking")))
        elif kind == "document":
            source = block.get("source") or {}
            texts.append(_str(source.get("data")) if source.get("type") == "text" else "")
    return extra
