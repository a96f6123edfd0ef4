"""Server-sent events: an incremental decoder for upstream bytes and the encoder for ours."""

import json
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring
from typing import Any

# An Anthropic stream event: its name and its data, a JSON object.
Event = tuple[str, dict[str, Any]]

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Most events of a stream are text deltas: written from a template, byte for byte what `dumps`
# writes, for less (benchmarks/overhead.py measures both).
_TEXT_DELTA = '{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}'


def _json(data: Mapping[str, Any]) -> str:
    if data.get("type") == "content_block_delta" and len(data) == 3:
        delta = data["delta"]
        if delta.get("type") == "text_delta" and len(delta) == 2 and type(data["index"]) is int:
            return _TEXT_DELTA % (data["index"], encode_basestring(delta["text"]))
    return dumps(data)


# "replace": an upstream can send a lone surrogate ("\\ud800" in its JSON), which UTF-8 cannot hold.
def encode(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {_json(data)}\n\n".encode("utf-8", "replace")


def json_bytes(obj: object) -> bytes:
    return dumps(obj).encode("utf-8", "replace")


def encode_all(events: Iterable[Event]) -> bytes:
    return "".join([f"event: {name}\ndata: {_json(data)}\n\n" for name, data in events]).encode("utf-8", "replace")


class Decoder:
    """Splits a byte stream into (event, data) pairs.

    Comment lines (": OPENROUTER PROCESSING") and fields other than event/data are
    skipped; several data lines join with a newline, as the SSE spec says.
    """

    __slots__ = ("_buf", "_event", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        buf = self._buf + chunk if self._buf else chunk
        # Complete lines are decoded at once: a UTF-8 sequence never holds a newline byte, so
        # cutting at the last one never splits a character.
        cut = buf.rfind(b"\n")
        if cut < 0:
            self._buf = buf
            return []
        self._buf = buf[cut + 1:]
        out = []
        for line in buf[:cut].decode("utf-8", "replace").split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append((self._event, "\n".join(self._data)))
                self._event, self._data = "", []
            elif line.startswith("data:"):
                self._data.append(line[6:] if line.startswith("data: ") else line[5:])
            elif line.startswith("event:"):
                self._event = line[6:].strip()
        return out

    def flush(self) -> list[tuple[str, str]]:
        """What remains at end of stream (a last event without its blank line)."""
        rest = self.feed(b"\n\n") if self._buf or self._data else []
        self._buf = b""
        return rest
