"""OpenAI Chat Completions response -> Anthropic message.

A whole response is one big chunk to the stream translator, so streamed and non-streamed
answers get the same quirk handling; `accumulate` folds the events into the message.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from freeclaude.translate.sse import Event
from freeclaude.translate.stream import StreamTranslator, UpstreamStreamError


def from_openai(resp: object, translator: StreamTranslator) -> dict[str, Any]:
    return accumulate(events_from_openai(resp, translator))


def events_from_openai(resp: object, translator: StreamTranslator) -> list[Event]:
    """The stream events a whole response makes."""
    if not isinstance(resp, dict):
        raise UpstreamStreamError({"message": "the upstream answered with something that is not a JSON object"})
    if resp.get("error"):
        raise UpstreamStreamError(resp["error"])
    choices = resp.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UpstreamStreamError({"message": "the upstream answer has no choices"})
    first = choices[0]
    chunk = {"choices": [{"delta": first.get("message") or {}, "finish_reason": first.get("finish_reason") or "stop",
                          "stop_reason": first.get("stop_reason")}],
             "usage": resp.get("usage")}
    return translator.feed(chunk) + translator.finish(done=True)


def accumulate(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The message an Anthropic client builds from a stream of events."""
    message: dict[str, Any] = {}
    partial: dict[int, list[str]] = {}
    for name, data in events:
        if name == "message_start":
            message = dict(data["message"], content=[])
        elif name == "content_block_start":
            message["content"].append(dict(data["content_block"]))
        elif name == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            kind = delta["type"]
            if kind == "text_delta":
                block["text"] += delta["text"]
            elif kind == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif kind == "signature_delta":
                block["signature"] = delta["signature"]
            elif kind == "input_json_delta":
                partial.setdefault(data["index"], []).append(delta["partial_json"])
        elif name == "content_block_stop":
            if data["index"] in partial:
                message["content"][data["index"]]["input"] = json.loads("".join(partial.pop(data["index"])))
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"] = dict(message.get("usage") or {}, **data["usage"])
    return message
