"""Content that is not plain text: <think> reasoning and tool calls written as text.

Open models served without a tool parser write calls into the content: Hermes/Qwen
`<tool_call>{…}</tool_call>`, Qwen3-Coder `<function=Name><parameter=k>v</parameter></function>`,
Llama `<function=Name>{…}</function>`, or a fenced JSON object naming a tool. `Scanner` splits
streamed content into text, thinking and calls, holding back only what might still become
a call, and only until it cannot: ordinary text, and prose that mentions a marker, stream
through.
"""

import json
import re

from freeclaude.translate.jsonrepair import Args

_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_TOOL_CALL, _FUNCTION_OPEN, _FENCE = "<tool_call>", "<function=", "```"
_MARKERS = (_TOOL_CALL, _FUNCTION_OPEN, _FENCE)
_CLOSE = {_TOOL_CALL: "</tool_call>", _FUNCTION_OPEN: "</function>", _FENCE: _FENCE}
_MARKER_CHARS = re.compile(r"[<`]")
_SPACES = re.compile(r"\s*")
_NAME = re.compile(r"[^<>\s]*")
_PARAM = re.compile(r"<parameter=([^>\s]+)>\n?(.*?)\n?</parameter>", re.S)
_FUNCTION = re.compile(r"<function=([^>\s]+)>(.*?)</function>", re.S)
# A call's opening (marker, blank lines, tool name) is short: an opening still undecided
# after this many characters is taken for prose, so no held text is read over and over.
_HEAD_MAX = 256

_START, _THINK_HEAD, _THINK, _AFTER_THINK, _TEXT, _FENCE_LINE, _CODE, _CALL = range(8)

# What a marker opens, as far as the text so far tells.
_IS_CALL, _UNDECIDED, _PROSE, _CODE_BLOCK = "call", "undecided", "prose", "code block"


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that begins `marker`."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


def _begins(buf: str, i: int, word: str) -> bool | None:
    """Whether `buf` has `word` at `i`; None while what is there is too short to tell."""
    if len(buf) - i >= len(word):
        return buf.startswith(word, i)
    return None if word.startswith(buf[i:]) else False


class Scanner:
    """Feed content deltas; get ("text", str), ("think", str) and ("call", name, args) items.

    Each character is read a bounded number of times, whatever the chunking: a call being
    written is kept as a list of pieces and only its newest characters are searched for the
    closing tag; a marker in prose is released as soon as what follows it cannot open a call.
    """

    __slots__ = ("_tools", "_buf", "_mode", "_marker", "_body", "_held", "_tail")

    def __init__(self, tools: dict[str, dict] | None) -> None:
        self._tools = tools or {}  # tool name -> input schema; calls are only parsed when tools exist
        self._buf = ""  # held: what may still begin a marker, or an opening not yet decided
        self._mode = _START
        # mode _CALL: the call's marker, where its body starts, its pieces so far, and its last
        # few characters, where a closing tag split across chunks may begin
        self._marker = ""
        self._body = 0
        self._held: list[str] = []
        self._tail = ""

    def feed(self, text: str) -> list[tuple]:
        if self._mode == _TEXT and not self._buf and not (self._tools and _MARKER_CHARS.search(text)):
            return [("text", text)]  # the common case, once per streamed chunk: nothing to look at
        out: list[tuple] = []
        if self._mode == _CALL:
            text = self._await_close(text, out)
            if text is None:
                return out
        buf = self._buf + text
        self._buf = ""
        pos = 0
        while pos < len(buf):
            if self._mode == _START:
                head = _SPACES.match(buf, pos).end()
                opens = _begins(buf, head, _THINK_OPEN)
                if opens is None:
                    self._buf = buf[pos:]  # might still become <think>
                    break
                self._mode = _THINK_HEAD if opens else _TEXT
                if opens:
                    pos = head + len(_THINK_OPEN)
            elif self._mode == _THINK_HEAD:
                while buf.startswith("\n", pos):  # the line break after <think>, in whichever chunk it comes
                    pos += 1
                if pos < len(buf):
                    self._mode = _THINK
            elif self._mode == _THINK:
                end = self._until(buf, pos, _THINK_CLOSE, "think", out)
                if end is None:
                    break
                pos = end + len(_THINK_CLOSE)
                self._mode = _AFTER_THINK
            elif self._mode == _AFTER_THINK:
                pos = _SPACES.match(buf, pos).end()  # the blank lines between reasoning and answer
                if pos < len(buf):
                    self._mode = _TEXT
            elif self._mode == _FENCE_LINE:
                line_end = buf.find("\n", pos)
                end = len(buf) if line_end < 0 else line_end + 1
                out.append(("text", buf[pos:end]))
                pos = end
                if line_end >= 0:
                    self._mode = _CODE
            elif self._mode == _CODE:
                end = self._until(buf, pos, _FENCE, "text", out)
                if end is None:
                    break
                out.append(("text", _FENCE))
                pos = end + len(_FENCE)
                self._mode = _TEXT
            else:
                pos = self._text(buf, pos, out)
        return _merge(out)

    def flush(self) -> list[tuple]:
        """End of content: whatever was held back was not a marker after all."""
        if self._mode == _CALL:
            rest, self._mode = "".join(self._held), _TEXT
        else:
            rest = self._buf
        self._buf, self._held, self._tail = "", [], ""
        if not rest:
            return []
        return [("think" if self._mode == _THINK else "text", rest)]

    def _until(self, buf: str, pos: int, close: str, kind: str, out: list[tuple]) -> int | None:
        """Passes on `kind` from `pos` up to `close` and returns where `close` is; None when it
        has not come yet (then only what may begin it is held)."""
        end = buf.find(close, pos)
        if end < 0:
            keep = min(_partial_suffix(buf, close), len(buf) - pos)
            if len(buf) - keep > pos:
                out.append((kind, buf[pos: len(buf) - keep]))
            self._buf = buf[len(buf) - keep:]
            return None
        if end > pos:
            out.append((kind, buf[pos:end]))
        return end

    def _text(self, buf: str, pos: int, out: list[tuple]) -> int:
        """Text mode from `pos`; returns where scanning goes on (the end of `buf` once the rest
        is passed on or held)."""
        if not self._tools or not _MARKER_CHARS.search(buf, pos):
            out.append(("text", buf[pos:]))
            return len(buf)
        found = [(i, m) for i, m in ((buf.find(m, pos), m) for m in _MARKERS) if i >= 0]
        if not found:
            keep = min(max(_partial_suffix(buf, m) for m in _MARKERS), len(buf) - pos)
            if len(buf) - keep > pos:
                out.append(("text", buf[pos: len(buf) - keep]))
            self._buf = buf[len(buf) - keep:]
            return len(buf)
        i, marker = min(found)
        if i > pos:
            out.append(("text", buf[pos:i]))
        verdict = self._opening(buf, i, marker)
        if verdict == _UNDECIDED and len(buf) - i > _HEAD_MAX:
            verdict = _CODE_BLOCK if marker == _FENCE else _PROSE
        if verdict == _UNDECIDED:
            self._buf = buf[i:]
            return len(buf)
        if verdict == _PROSE:
            out.append(("text", marker))  # a marker mentioned in prose: scan on after it
            return i + len(marker)
        if verdict == _CODE_BLOCK:
            out.append(("text", marker))
            self._mode = _FENCE_LINE  # an ordinary code block: its closing fence is not a marker
            return i + len(marker)
        # <tool_call> wraps its body; <function=…>…</function> is parsed whole; a fenced
        # call's body starts on the fence's second line.
        if marker == _FENCE:
            self._body = buf.find("\n", i) + 1 - i
        else:
            self._body = len(marker) if marker == _TOOL_CALL else 0
        self._mode, self._marker, self._held, self._tail = _CALL, marker, [], ""
        rest = self._await_close(buf[i:], out, self._body)
        return len(buf) if rest is None else len(buf) - len(rest)

    def _opening(self, buf: str, i: int, marker: str) -> str:
        """What the marker at `i` opens, judged from the characters after it."""
        if marker == _FENCE:
            line_end = buf.find("\n", i)
            info = buf[i + len(marker): len(buf) if line_end < 0 else line_end]
            if not "json".startswith(info.strip().lower()):
                return _CODE_BLOCK
            if line_end < 0:
                return _UNDECIDED
            head = _SPACES.match(buf, line_end + 1).end()
            if head == len(buf):
                return _UNDECIDED
            return _IS_CALL if buf[head] == "{" else _CODE_BLOCK
        if marker == _TOOL_CALL:
            head = _SPACES.match(buf, i + len(marker)).end()
            if head == len(buf):
                return _UNDECIDED
            if buf[head] == "{":
                return _IS_CALL
            inner = _begins(buf, head, _FUNCTION_OPEN)
            if inner is None:
                return _UNDECIDED
            return self._opening(buf, head, _FUNCTION_OPEN) if inner else _PROSE
        name_end = _NAME.match(buf, i + len(marker)).end()
        if name_end == len(buf):
            return _UNDECIDED
        if buf[name_end] != ">" or name_end == i + len(marker):
            return _PROSE
        head = _SPACES.match(buf, name_end + 1).end()
        if head == len(buf):
            return _UNDECIDED
        if buf[head] == "{":
            return _IS_CALL
        for word in ("<parameter=", "</function>"):
            begins = _begins(buf, head, word)
            if begins is not False:
                return _IS_CALL if begins else _UNDECIDED
        return _PROSE

    def _await_close(self, text: str, out: list[tuple], search_from: int = 0) -> str | None:
        """Holds a call until its closing tag; returns the text after it, or None while it is open."""
        close = _CLOSE[self._marker]
        window = self._tail + text
        end = window.find(close, search_from)
        if end < 0:
            self._held.append(text)
            self._tail = window[max(search_from, len(window) - len(close) + 1):]
            return None
        cut = end + len(close) - len(self._tail)  # where the call ends in `text`
        whole = "".join(self._held) + text[:cut]
        self._held, self._tail, self._mode = [], "", _TEXT
        body = whole[self._body:]
        if self._marker == _FUNCTION_OPEN:
            call = self._parse(body)
        else:
            call = self._parse(body[: -len(close)], fenced=self._marker == _FENCE)
        out.append(call if call else ("text", whole))
        return text[cut:]

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
