"""Content that is not plain text: <think> reasoning and tool calls written as text.

Open models served without a tool parser write calls into the content: Hermes/Qwen
`<tool_call>{…}</tool_call>`, Qwen3-Coder `<function=Name><parameter=k>v</parameter></function>`,
Llama `<function=Name>{…}</function>`, or a fenced JSON object naming a tool. `Scanner` splits
streamed content into text, thinking and calls, holding back only what might still become
a marker, so ordinary text streams through untouched.
"""

import json
import re

from freeclaude.translate.jsonrepair import Args

_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_MARKERS = ("<tool_call>", "<function=", "```")
_MARKER_CHARS = re.compile(r"[<`]")
_PARAM = re.compile(r"<parameter=([^>\s]+)>\n?(.*?)\n?</parameter>", re.S)
_FUNCTION = re.compile(r"<function=([^>\s]+)>(.*?)</function>", re.S)

_START, _THINK, _AFTER_THINK, _TEXT, _CODE = range(5)


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that begins `marker`."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


class Scanner:
    """Feed content deltas; get ("text", str), ("think", str) and ("call", name, args) items."""

    __slots__ = ("_tools", "_buf", "_mode")

    def __init__(self, tools: dict[str, dict] | None) -> None:
        self._tools = tools or {}  # tool name -> input schema; calls are only parsed when tools exist
        self._buf = ""
        self._mode = _START

    def feed(self, text: str) -> list[tuple]:
        out: list[tuple] = []
        buf = self._buf + text
        self._buf = ""
        while buf:
            if self._mode == _START:
                head = buf.lstrip()
                if head.startswith(_THINK_OPEN):
                    self._mode = _THINK
                    buf = head[len(_THINK_OPEN):].lstrip("\n")
                elif _THINK_OPEN.startswith(head):
                    self._buf = buf  # might still become <think>
                    break
                else:
                    self._mode = _TEXT
            elif self._mode == _THINK:
                end = buf.find(_THINK_CLOSE)
                if end < 0:
                    keep = _partial_suffix(buf, _THINK_CLOSE)
                    if len(buf) > keep:
                        out.append(("think", buf[: len(buf) - keep]))
                    self._buf = buf[len(buf) - keep:]
                    break
                if end:
                    out.append(("think", buf[:end]))
                buf = buf[end + len(_THINK_CLOSE):]
                self._mode = _AFTER_THINK
            elif self._mode == _AFTER_THINK:
                buf = buf.lstrip()  # the blank lines between reasoning and answer
                if buf:
                    self._mode = _TEXT
            elif self._mode == _CODE:
                end = buf.find("```")
                if end < 0:
                    keep = _partial_suffix(buf, "```")
                    if len(buf) > keep:
                        out.append(("text", buf[: len(buf) - keep]))
                    self._buf = buf[len(buf) - keep:]
                    break
                out.append(("text", buf[: end + 3]))
                buf = buf[end + 3:]
                self._mode = _TEXT
            else:
                buf = self._text(buf, out)
                if buf is None:
                    break
        return _merge(out)

    def flush(self) -> list[tuple]:
        """End of content: whatever was held back was not a marker after all."""
        rest, self._buf = self._buf, ""
        if not rest:
            return []
        return [("think" if self._mode == _THINK else "text", rest)]

    def _text(self, buf: str, out: list[tuple]) -> str | None:
        """Handles text mode; returns what is left to scan, or None when it must wait."""
        if not self._tools or not _MARKER_CHARS.search(buf):
            out.append(("text", buf))
            return ""
        starts = [(buf.find(m), m) for m in _MARKERS]
        found = [(i, m) for i, m in starts if i >= 0]
        if not found:
            keep = max(_partial_suffix(buf, m) for m in _MARKERS)
            if len(buf) > keep:
                out.append(("text", buf[: len(buf) - keep]))
            self._buf = buf[len(buf) - keep:]
            return None
        i, marker = min(found)
        if i:
            out.append(("text", buf[:i]))
            buf = buf[i:]
        if marker == "```":
            return self._fence(buf, out)
        close = "</tool_call>" if marker == "<tool_call>" else "</function>"
        end = buf.find(close)
        if end < 0:
            self._buf = buf
            return None
        # <tool_call> wraps its body; <function=…>…</function> is parsed whole.
        call = self._parse(buf[len(marker):end] if marker == "<tool_call>" else buf[: end + len(close)])
        end += len(close)
        out.append(call if call else ("text", buf[:end]))
        return buf[end:]

    def _fence(self, buf: str, out: list[tuple]) -> str | None:
        line_end = buf.find("\n")
        if line_end < 0:
            self._buf = buf
            return None
        lang = buf[3:line_end].strip().lower()
        body = buf[line_end + 1:]
        head = body.lstrip()
        if lang in ("", "json") and not head:
            self._buf = buf
            return None
        if lang in ("", "json") and head.startswith("{"):
            end = body.find("```")
            if end < 0:
                self._buf = buf
                return None
            call = self._parse(body[:end], fenced=True)
            whole = line_end + 1 + end + 3
            out.append(call if call else ("text", buf[:whole]))
            return buf[whole:]
        out.append(("text", buf[: line_end + 1]))
        self._mode = _CODE  # an ordinary code block: its closing fence is not a marker
        return body

    def _parse(self, body: str, fenced: bool = False) -> tuple | None:
        body = body.strip()
        fn = _FUNCTION.fullmatch(body)
        if fn:
            name, inner = fn.group(1), fn.group(2).strip()
            if inner.startswith("{"):
                args = _object(inner)
            else:
                schema = (self._tools.get(name) or {}).get("properties") or {}
                args = {k: _param(v, schema.get(k)) for k, v in _PARAM.findall(inner)}
        elif body.startswith("{"):
            obj = _object(body)
            if not isinstance(obj, dict):
                return None
            name = obj.get("name")
            args = obj.get("arguments", obj.get("parameters", obj.get("input", {})))
            if isinstance(args, str):
                args = _object(args)
        else:
            return None
        if not isinstance(name, str) or not isinstance(args, dict):
            return None
        if fenced and name not in self._tools:
            return None  # a JSON example in prose, not a call
        return ("call", name, args)


def _object(text: str):
    args = Args()
    try:
        value = json.loads(args.feed(text) + args.finish())
    except ValueError:
        return None
    return None if args.broken else value


def _param(value: str, schema) -> object:
    """Qwen3-Coder parameters are raw text; convert those whose schema is not a string."""
    kind = (schema or {}).get("type", "string")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _merge(items: list[tuple]) -> list[tuple]:
    """Adjacent pieces of the same kind become one (fewer events downstream)."""
    if len(items) < 2:
        return items
    out = [items[0]]
    for item in items[1:]:
        prev = out[-1]
        if item[0] == prev[0] and item[0] != "call":
            out[-1] = (prev[0], prev[1] + item[1])
        else:
            out.append(item)
    return out
