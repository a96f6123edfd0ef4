"""Server-sent events: an incremental decoder for upstream bytes and the encoder for ours."""

import json

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(event: str, data: dict) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + _dumps(data).encode() + b"\n\n"


def encode_all(events: list[tuple[str, dict]]) -> bytes:
    return b"".join(encode(name, data) for name, data in events)


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
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        out = []
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
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
