"""Content that is not plain text: <think> reasoning and tool calls written as text.

Open models served without a tool parser (or with the wrong one) write their calls into the
content, each family in its own markup (callformats.py has one parser per format and where each
comes from). `Scanner` splits streamed content into text, thinking and calls while it streams:
text before a call goes out at once; only what may still open a call is held, and only until the
characters after it tell (at most _HEAD_MAX of them); a call is held until it ends, then parsed,
and becomes calls only if every name is offered and every argument fits the tool's schema, else
it goes out as the text it was. Fenced code blocks and <think> are never read for calls.
"""

import re

from freeclaude.translate.callformats import CALL, FENCED, FORMATS, LINE_FORMATS, PROSE, UNDECIDED, begins
from freeclaude.translate.callformats import HEAD_MAX as _HEAD_MAX
from freeclaude.translate.callparse import Tools

# Reasoning written into the content, and how it ends (Seed-OSS's chat template uses its own tags).
_THINKS = {"<think>": "</think>", "<seed:think>": "</seed:think>"}
_FENCE = "```"
_MARKER_CHARS = re.compile(r"[<\[`{]")  # a chunk without these cannot open anything
_LINE_START = re.compile(r"(?m)^[ \t]*[\[{]")
_SPACES = re.compile(r"\s*")
_FENCE_INFO = re.compile(r"[\w+#.\-]*[ \t]*\Z")

_START, _THINK_HEAD, _THINK, _AFTER_THINK, _TEXT, _FENCE_LINE, _CODE, _CALL = range(8)
_CODE_BLOCK = "code block"
_AHEAD = object()  # not searched yet


class _Openers:
    """The markers of the enabled formats, found with one regular expression."""

    __slots__ = ("by_marker", "search", "prefixes", "longest", "lines", "fenced")

    def __init__(self, off: frozenset) -> None:
        self.by_marker: dict[str, list] = {}
        for f in FORMATS:
            if f.name not in off:
                self.by_marker.setdefault(f.marker, []).append(f)
        self.fenced = "fenced" not in off
        markers = list(self.by_marker) + ([_FENCE] if self.fenced else [])
        # longest first, so that a marker is never taken for a shorter one it begins with
        pattern = "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
        self.search = re.compile(pattern).search if pattern else None
        self.prefixes = {m[:n] for m in markers for n in range(1, len(m))}
        self.longest = max((len(m) for m in markers), default=0)
        self.lines = tuple(f for f in LINE_FORMATS if f.name not in off)


_OPENERS: dict[frozenset, _Openers] = {}


def _openers(off: frozenset) -> _Openers:
    found = _OPENERS.get(off)
    if found is None:
        found = _OPENERS[off] = _Openers(off)
    return found


class _Balance:
    """Where a JSON value or a pythonic list that opens a text closes, read a piece at a time."""

    __slots__ = ("depth", "quote", "escape")
    _STOPS = re.compile(r"[\[\]{}()\"'\\]")

    def __init__(self) -> None:
        self.depth, self.quote, self.escape = 0, "", False

    def feed(self, text: str, start: int = 0) -> int:
        """The index just past the close in `text`, or -1 while it is still open."""
        i, stops = start, self._STOPS
        while True:
            if self.escape:  # the character after a backslash, in this piece or the next
                if i >= len(text):
                    return -1
                self.escape = False
                i += 1
            m = stops.search(text, i)
            if m is None:
                return -1
            c, i = m.group(), m.end()
            if self.quote:
                if c == "\\":
                    self.escape = True
                elif c == self.quote:
                    self.quote = ""
            elif c in "\"'":
                self.quote = c
            elif c in "[{(":
                self.depth += 1
            elif c in "]})":
                self.depth -= 1
                if self.depth <= 0:
                    return i


class Scanner:
    """Feed content deltas; get ("text", str), ("think", str) and ("call", name, args) items.

    Each character is read a bounded number of times, whatever the chunking: a call being
    written is kept as a list of pieces and only its newest characters are searched for its end;
    an opening in prose is released as soon as what follows it cannot open a call.
    """

    __slots__ = ("_tools", "_open", "_buf", "_mode", "_last", "_fmt", "_held", "_tail", "_balance",
                 "_strays", "_pending", "_after_call", "_think_close", "_plain", "_search", "_searched", "_found",
                 "_line")

    def __init__(self, tools: dict[str, dict] | None, off: frozenset = frozenset()) -> None:
        off = frozenset(off)
        self._tools = Tools(tools or {}, off)  # calls are only read when tools are offered
        self._open = _openers(off) if tools else None
        # True while the next chunk may go straight out if nothing in it can open anything
        self._plain = False
        self._search = _MARKER_CHARS.search if tools else _nothing
        self._buf = ""  # held: what may still begin an opening, or an opening not yet decided
        self._mode = _START
        self._think_close = ""
        self._last = "\n"  # the text last passed on: is the next character at the start of a line?
        # mode _CALL: the format being read, its pieces so far, and its newest characters, where an
        # end split across chunks may begin (or the bracket balance, for a JSON or pythonic call)
        self._fmt = None
        self._held: list[str] = []
        self._tail = ""
        self._balance: _Balance | None = None
        self._strays: tuple = ()  # closing markers to drop if they come next
        self._pending = ""  # blank text right after a call: it goes out only if text follows
        self._after_call = False
        # the buffer searched last, and the next marker and line-start bracket found in it
        self._searched: str | None = None
        self._found = self._line = _AHEAD

    def feed(self, text: str) -> list[tuple]:
        if self._plain and not self._search(text):
            self._last = text
            return [("text", text)]  # the common case, once per streamed chunk: nothing to look at
        out: list[tuple] = []
        if self._mode == _CALL:
            text = self._await_end(text, out)
            if text is None:
                return self._settle(out)
        buf = self._buf + text
        self._buf = ""
        pos = 0
        while pos < len(buf):
            mode = self._mode
            if mode == _TEXT:
                pos = self._text(buf, pos, out)
            elif mode == _START:
                head = _SPACES.match(buf, pos).end()
                verdicts = [begins(buf, head, tag) for tag in _THINKS]
                if True in verdicts:
                    tag = list(_THINKS)[verdicts.index(True)]
                    self._think_close, self._mode = _THINKS[tag], _THINK_HEAD
                    pos = head + len(tag)
                elif None in verdicts:
                    self._buf = buf[pos:]  # might still become <think>
                    break
                else:
                    self._mode = _TEXT
            elif mode == _THINK_HEAD:
                while buf.startswith("\n", pos):  # the line break after <think>, in whichever chunk it comes
                    pos += 1
                if pos < len(buf):
                    self._mode = _THINK
            elif mode == _THINK:
                end = self._until(buf, pos, self._think_close, "think", out)
                if end is None:
                    break
                pos = end + len(self._think_close)
                self._mode = _AFTER_THINK
            elif mode == _AFTER_THINK:
                pos = _SPACES.match(buf, pos).end()  # the blank lines between reasoning and answer
                if pos < len(buf):
                    self._mode = _TEXT
            elif mode == _FENCE_LINE:
                line_end = buf.find("\n", pos)
                end = len(buf) if line_end < 0 else line_end + 1
                out.append(("text", buf[pos:end]))
                pos = end
                if line_end >= 0:
                    self._mode = _CODE
            elif mode == _CODE:
                end = self._until(buf, pos, _FENCE, "text", out)
                if end is None:
                    break
                out.append(("text", _FENCE))
                pos = end + len(_FENCE)
                self._mode = _TEXT
            else:  # _CALL, entered from _text with the rest of buf already consumed
                break
        return self._settle(out)

    def flush(self) -> list[tuple]:
        """End of content: a call without its end is read as it stands; whatever else was held
        back was not an opening after all."""
        out: list[tuple] = []
        if self._mode == _CALL:
            whole = "".join(self._held)
            self._held, self._tail, self._balance, self._mode = [], "", None, _TEXT
            self._parsed(self._fmt, whole, out)
        rest, self._buf = self._buf, ""
        if rest:
            if self._mode == _THINK:
                out.append(("think", rest))
            elif not self._at_eof(rest, out):
                out.append(("text", rest))
        self._pending = ""  # blank text after the last call is not an answer
        return self._settle(out, final=True)

    # ---------------------------------------------------------------- text

    def _text(self, buf: str, pos: int, out: list[tuple]) -> int:
        """Text mode from `pos`; returns where scanning goes on (the end of `buf` once the rest
        is passed on or held)."""
        if self._strays:  # a closing marker the call's wrapper left behind is not text
            head = _SPACES.match(buf, pos).end()
            if head == len(buf):
                out.append(("text", buf[pos:]))
                return len(buf)
            verdicts = [begins(buf, head, stray) for stray in self._strays]
            if True in verdicts:
                out.append(("text", buf[pos:head]))
                stray, self._strays = self._strays[verdicts.index(True)], ()
                return head + len(stray)
            if None in verdicts:
                self._buf = buf[pos:]
                return len(buf)
            self._strays = ()
        opens = self._open
        if opens is None or not _MARKER_CHARS.search(buf, pos):
            out.append(("text", buf[pos:]))
            return len(buf)
        i, formats, marker = self._next_opening(buf, pos)
        if i < 0:
            keep = self._partial(buf, pos)
            if len(buf) - keep > pos:
                out.append(("text", buf[pos: len(buf) - keep]))
            self._buf = buf[len(buf) - keep:]
            return len(buf)
        if i > pos:
            out.append(("text", buf[pos:i]))
        head = buf[i:i + _HEAD_MAX + 1]  # all a decision may read: an opening longer than this is prose
        if marker == _FENCE:
            verdict, fmt = self._fence(head, 0), FENCED
        else:
            verdict, fmt = PROSE, None
            for f in formats:
                v = f.decide(head, 0, self._tools)
                if v == CALL:
                    verdict, fmt = CALL, f
                    break
                if v == UNDECIDED:
                    verdict = UNDECIDED
        if verdict == PROSE and len(buf) - i < opens.longest and buf[i:] in opens.prefixes:
            verdict = UNDECIDED  # a line's first bracket that may still begin a marker ([TOOL_CALLS])
        if verdict == UNDECIDED and len(buf) - i > _HEAD_MAX:
            verdict = _CODE_BLOCK if marker == _FENCE else PROSE
        if verdict == UNDECIDED:
            self._buf = buf[i:]
            return len(buf)
        if verdict == PROSE:
            step = max(len(marker), 1)
            out.append(("text", buf[i:i + step]))  # an opening mentioned in prose: scan on after it
            return i + step
        if verdict == _CODE_BLOCK:
            out.append(("text", marker))
            self._mode = _FENCE_LINE  # an ordinary code block: its closing fence is not an opening
            return i + len(marker)
        self._mode, self._fmt, self._held, self._tail = _CALL, fmt, [], ""
        self._balance = _Balance() if fmt.balanced else None
        start = len(marker) if not fmt.head_end else buf.find(fmt.head_end, i) + len(fmt.head_end) - i
        if fmt is FENCED:
            start = buf.find("\n", i) + 1 - i
        rest = self._await_end(buf[i:], out, start)
        return len(buf) if rest is None else len(buf) - len(rest)

    def _next_opening(self, buf: str, pos: int) -> tuple[int, tuple, str]:
        """The first opening at or after `pos`: its index, its candidate formats, its marker.
        What a search of `buf` found is kept while it still lies ahead: prose full of openings
        must not be searched again from each of them to an opening far ahead."""
        opens = self._open
        if self._searched is not buf:
            self._searched, self._found, self._line = buf, _AHEAD, _AHEAD
        found = self._found
        if found is _AHEAD or (found is not None and found.start() < pos):
            found = self._found = opens.search(buf, pos) if opens.search else None
        i = found.start() if found else -1
        if opens.lines:
            line = self._line
            if line is _AHEAD or (line is not None and line.start() < pos):
                line = _LINE_START.search(buf, pos)
                if line is not None and line.start() == 0 and not self._line_start():
                    nl = buf.find("\n", 1)
                    line = _LINE_START.search(buf, nl + 1) if nl >= 0 else None
                self._line = line
            if line is not None and (i < 0 or line.end() - 1 < i):
                return line.end() - 1, opens.lines, ""
        if i < 0:
            return -1, (), ""
        marker = found.group()
        return i, opens.by_marker.get(marker, ()), marker

    def _line_start(self) -> bool:
        last = self._last.rstrip(" \t")
        return not last or last.endswith("\n")

    def _partial(self, buf: str, pos: int) -> int:
        """Length of the end of `buf` that may begin a marker."""
        opens = self._open
        for j in range(max(pos, len(buf) - opens.longest + 1), len(buf)):
            if buf[j] in "<[`" and buf[j:] in opens.prefixes:
                return len(buf) - j
        return 0

    def _fence(self, buf: str, i: int) -> str:
        """What a fence opens: a block whose body starts with a JSON object or array may be a call
        (whatever its language tag); any other is an ordinary code block."""
        line_end = buf.find("\n", i)
        info = buf[i + 3: len(buf) if line_end < 0 else line_end]
        if not _FENCE_INFO.match(info):
            return _CODE_BLOCK
        if line_end < 0:
            return UNDECIDED
        head = _SPACES.match(buf, line_end + 1).end()
        if head == len(buf):
            return UNDECIDED
        return CALL if buf[head] in "{[" else _CODE_BLOCK

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

    # ---------------------------------------------------------------- calls

    def _await_end(self, text: str, out: list[tuple], search_from: int = 0) -> str | None:
        """Holds a call until it ends; returns the text after it, or None while it is open.
        Only the newest characters are searched: the tail kept from earlier pieces (where an end
        split across chunks may begin) and the new piece."""
        fmt = self._fmt
        if self._balance is not None:
            cut = self._balance.feed(text, search_from)
            if cut < 0:
                self._held.append(text)
                return None
        else:
            tail = self._tail
            window = tail + text
            start = search_from  # non-zero only for the first piece, when there is no tail yet
            at, close = -1, ""
            for marker in fmt.closers:
                j = window.find(marker, start)
                if j >= 0 and (at < 0 or j < at):
                    at, close = j, marker
            if at < 0:
                self._held.append(text)
                self._tail = window[max(start, len(window) - fmt.keep):]
                return None
            cut = at + (len(close) if close in fmt.ends else 0) - len(tail)
        joined = "".join(self._held) + text
        end = len(joined) - len(text) + cut  # a stop may begin in the tail, before `text`
        self._held, self._tail, self._balance, self._mode = [], "", None, _TEXT
        self._parsed(fmt, joined[:end], out)
        return joined[end:]

    def _parsed(self, fmt, whole: str, out: list[tuple]) -> None:
        items = fmt.parse(whole, self._tools) if whole.strip() else None
        if items is None:
            out.append(("text", whole))
            return
        out.extend(items)
        if any(item[0] == "call" for item in items):
            self._strays = fmt.strays
            self._after_call = True

    def _at_eof(self, held: str, out: list[tuple]) -> bool:
        """An opening the stream ended in before it was decided: read as a call if it is one."""
        if self._open is None:
            return False
        i, formats, marker = self._next_opening(held, 0)
        if i != 0:
            return False
        for f in formats:
            items = f.parse(held, self._tools)
            if items:
                out.extend(items)
                return True
        return False

    def _settle(self, out: list[tuple], final: bool = False) -> list[tuple]:
        """Merges pieces of a kind; blank text right after a call waits to see what follows it."""
        self._plain = self._mode == _TEXT and not self._buf and not self._strays and not self._pending
        if not self._after_call and not self._pending:
            out = _merge(out)
            if out and out[-1][0] == "text":
                self._last = out[-1][1]
            return out
        settled: list[tuple] = []
        for item in _merge(out):
            if item[0] == "call":
                self._pending = ""
                self._after_call = True
            elif item[0] == "text" and self._after_call and not item[1].strip():
                self._pending += item[1]
                continue
            elif self._after_call:
                if self._pending and item[0] == "text":
                    item = ("text", self._pending + item[1])
                self._pending, self._after_call = "", False
            settled.append(item)
        if final:
            self._after_call = False
        self._plain = self._plain and not self._after_call
        if settled and settled[-1][0] == "text":
            self._last = settled[-1][1]
        return settled


def _nothing(text: str) -> None:
    return None


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that begins `marker`."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


def _merge(items: list[tuple]) -> list[tuple]:
    """Adjacent pieces of the same kind become one (fewer events downstream), joined once."""
    if len(items) < 2:
        return items
    out: list[tuple] = []
    run: list[str] = []
    for item in items:
        if run and item[0] != kind:
            out.append((kind, "".join(run)) if len(run) > 1 else prev)
            run = []
        if item[0] == "call":
            out.append(item)
            continue
        if not run:
            kind, prev = item[0], item
        run.append(item[1])
    if run:
        out.append((kind, "".join(run)) if len(run) > 1 else prev)
    return out
