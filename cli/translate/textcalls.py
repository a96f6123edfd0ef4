"""Content that is not plain text: <think> reasoning and tool calls written as text.

Open models served without a tool parser (or with the wrong one) write their calls into the
content, each family in its own markup (callformats.py has one parser per format and where each
comes from). `Scanner` splits streamed content into text, thinking and calls while it streams:
text before a call goes out at once; only what may still open a call is held, and only until the
characters after it tell (at most _HEAD_MAX of them); a call is held until it ends, then parsed,
and becomes calls only if every name is offered and every argument fits the tool's schema, else
it goes out as the text it was. Fenced code blocks and <think> are never read for calls.
"""

import enum
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from freeclaude.translate.callformats import (
    CALL,
    CODE_BLOCK,
    FENCED,
    FORMATS,
    LINE_FORMATS,
    PROSE,
    UNDECIDED,
    Format,
    Verdict,
    begins,
    skip_spaces,
)
from freeclaude.translate.callformats import HEAD_MAX as _HEAD_MAX
from freeclaude.translate.callparse import Item, TextItem, Tools

# Reasoning written into the content, and how it ends (Seed-OSS's chat template uses its own tags).
_THINKS = {"<think>": "</think>", "<seed:think>": "</seed:think>"}
_FENCE = "```"
_MARKER_CHARS = re.compile(r"[<\[`{]")  # a chunk without these cannot open anything
_LINE_START = re.compile(r"(?m)^[ \t]*[\[{]")

_START, _THINK_HEAD, _THINK, _AFTER_THINK, _TEXT, _FENCE_LINE, _CODE, _CALL = range(8)


class _Ahead(enum.Enum):
    AHEAD = 0


_AHEAD: Final = _Ahead.AHEAD  # not searched yet
_Found = re.Match[str] | None | Literal[_Ahead.AHEAD]


class _Openers:
    """The markers of the enabled formats, found with one regular expression."""

    __slots__ = ("by_marker", "search", "prefixes", "longest", "lines", "fenced")

    def __init__(self, off: frozenset[str]) -> None:
        self.by_marker: dict[str, list[Format]] = {}
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


_OPENERS: dict[frozenset[str], _Openers] = {}


def _openers(off: frozenset[str]) -> _Openers:
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

    def __init__(self, tools: dict[str, dict[str, Any]] | None, off: frozenset[str] = frozenset()) -> None:
        off = frozenset(off)
        self._tools = Tools(tools or {}, off)  # calls are only read when tools are offered
        self._open = _openers(off) if tools else None
        # True while the next chunk may go straight out if nothing in it can open anything
        self._plain = False
        self._search: Callable[[str], object] = _MARKER_CHARS.search if tools else _nothing
        self._buf = ""  # held: what may still begin an opening, or an opening not yet decided
        self._mode = _START
        self._think_close = ""
        self._last = "\n"  # the text last passed on: is the next character at the start of a line?
        # mode _CALL: the format being read, its pieces so far, and its newest characters, where an
        # end split across chunks may begin (or the bracket balance, for a JSON or pythonic call)
        self._fmt: Format | None = None
        self._held: list[str] = []
        self._tail = ""
        self._balance: _Balance | None = None
        self._strays: tuple[str, ...] = ()  # closing markers to drop if they come next
        self._pending = ""  # blank text right after a call: it goes out only if text follows
        self._after_call = False
        # the buffer searched last, and the next marker and line-start bracket found in it
        self._searched: str | None = None
        self._found: _Found = _AHEAD
        self._line: _Found = _AHEAD

    def feed(self, text: str) -> list[Item]:
        if self._plain and not self._search(text):
            self._last = text
            return [("text", text)]  # the common case, once per streamed chunk: nothing to look at
        out: list[Item] = []
        if self._mode == _CALL:
            rest = self._await_end(text, out)
            if rest is None:
                return self._settle(out)
            text = rest
        buf = self._buf + text
        self._buf = ""
        pos = 0
        while pos < len(buf):
            mode = self._mode
            if mode == _TEXT:
                pos = self._text(buf, pos, out)
            elif mode == _START:
                head = skip_spaces(buf, pos)
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
                pos = skip_spaces(buf, pos)  # the blank lines between reasoning and answer
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

    def flush(self) -> list[Item]:
        """End of content: a call without its end is read as it stands; whatever else was held
        back was not an opening after all."""
        out: list[Item] = []
        if self._mode == _CALL:
            fmt = self._fmt
            assert fmt is not None, "mode _CALL has its format"
            whole = "".join(self._held)
            self._held, self._tail, self._balance, self._mode = [], "", None, _TEXT
            self._parsed(fmt, whole, out)
        rest, self._buf = self._buf, ""
        if rest:
            if self._mode == _THINK:
                out.append(("think", rest))
            elif not self._at_eof(rest, out):
                out.append(("text", rest))
        self._pending = ""  # blank text after the last call is not an answer
        return self._settle(out, final=True)

    # ---------------------------------------------------------------- text

    def _text(self, buf: str, pos: int, out: list[Item]) -> int:
        """Text mode from `pos`; returns where scanning goes on (the end of `buf` once the rest
        is passed on or held)."""
        if self._strays:  # a closing marker the call's wrapper left behind is not text
            head = skip_spaces(buf, pos)
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
        i, formats, marker = self._next_opening(opens, buf, pos)
        if i < 0:
            keep = _partial(opens, buf, pos)
            if len(buf) - keep > pos:
                out.append(("text", buf[pos: len(buf) - keep]))
            self._buf = buf[len(buf) - keep:]
            return len(buf)
        if i > pos:
            out.append(("text", buf[pos:i]))
        window = buf[i:i + _HEAD_MAX + 1]  # all a decision may read: an opening longer than this is prose
        verdict: Verdict
        fmt: Format | None
        if marker == _FENCE:
            verdict, fmt = FENCED.decide(window, 0, self._tools), FENCED
        else:
            verdict, fmt = PROSE, None
            for f in formats:
                v = f.decide(window, 0, self._tools)
                if v == CALL:
                    verdict, fmt = CALL, f
                    break
                if v == UNDECIDED:
                    verdict = UNDECIDED
        if verdict == PROSE and len(buf) - i < opens.longest and buf[i:] in opens.prefixes:
            verdict = UNDECIDED  # a line's first bracket that may still begin a marker ([TOOL_CALLS])
        if verdict == UNDECIDED and len(buf) - i > _HEAD_MAX:
            verdict = CODE_BLOCK if marker == _FENCE else PROSE
        if verdict == UNDECIDED:
            self._buf = buf[i:]
            return len(buf)
        if verdict == PROSE:
            step = max(len(marker), 1)
            out.append(("text", buf[i:i + step]))  # an opening mentioned in prose: scan on after it
            return i + step
        if verdict == CODE_BLOCK:
            out.append(("text", marker))
            self._mode = _FENCE_LINE  # an ordinary code block: its closing fence is not an opening
            return i + len(marker)
        assert fmt is not None, "a call has its format"
        self._mode, self._fmt, self._held, self._tail = _CALL, fmt, [], ""
        self._balance = _Balance() if fmt.balanced else None
        start = len(marker) if not fmt.head_end else buf.find(fmt.head_end, i) + len(fmt.head_end) - i
        if fmt is FENCED:
            start = buf.find("\n", i) + 1 - i
        rest = self._await_end(buf[i:], out, start)
        return len(buf) if rest is None else len(buf) - len(rest)

    def _next_opening(self, opens: _Openers, buf: str, pos: int) -> tuple[int, Sequence[Format], str]:
        """The first opening at or after `pos`: its index, its candidate formats, its marker.
        What a search of `buf` found is kept while it still lies ahead: prose full of openings
        must not be searched again from each of them to an opening far ahead."""
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
        if found is None:
            return -1, (), ""
        marker = found.group()
        return i, opens.by_marker.get(marker, ()), marker

    def _line_start(self) -> bool:
        last = self._last.rstrip(" \t")
        return not last or last.endswith("\n")

    def _until(self, buf: str, pos: int, close: str, kind: Literal["text", "think"], out: list[Item]) -> int | None:
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

    def _await_end(self, text: str, out: list[Item], search_from: int = 0) -> str | None:
        """Holds a call until it ends; returns the text after it, or None while it is open.
        Only the newest characters are searched: the tail kept from earlier pieces (where an end
        split across chunks may begin) and the new piece."""
        fmt = self._fmt
        assert fmt is not None, "mode _CALL has its format"
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

    def _parsed(self, fmt: Format, whole: str, out: list[Item]) -> None:
        items = fmt.parse(whole, self._tools) if whole.strip() else None
        if items is None:
            out.append(("text", whole))
            return
        out.extend(items)
        if any(item[0] == "call" for item in items):
            self._strays = fmt.strays
            self._after_call = True

    def _at_eof(self, held: str, out: list[Item]) -> bool:
        """An opening the stream ended in before it was decided: read as a call if it is one."""
        if self._open is None:
            return False
        i, formats, marker = self._next_opening(self._open, held, 0)
        if i != 0:
            return False
        for f in formats:
            items = f.parse(held, self._tools)
            if items:
                out.extend(items)
                return True
        return False

    def _settle(self, out: list[Item], final: bool = False) -> list[Item]:
        """Merges pieces of a kind; blank text right after a call waits to see what follows it."""
        self._plain = self._mode == _TEXT and not self._buf and not self._strays and not self._pending
        if not self._after_call and not self._pending:
            out = _merge(out)
            if out and out[-1][0] == "text":
                self._last = out[-1][1]
            return out
        settled: list[Item] = []
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


def _partial(opens: _Openers, buf: str, pos: int) -> int:
    """Length of the end of `buf` that may begin a marker."""
    for j in range(max(pos, len(buf) - opens.longest + 1), len(buf)):
        if buf[j] in "<[`" and buf[j:] in opens.prefixes:
            return len(buf) - j
    return 0


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that begins `marker`."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


def _merge(items: list[Item]) -> list[Item]:
    """Adjacent pieces of the same kind become one (fewer events downstream), joined once."""
    if len(items) < 2:
        return items
    out: list[Item] = []
    run: list[str] = []  # the texts of a run of one kind
    kind: Literal["text", "think"] = "text"
    prev: TextItem = ("text", "")  # the run's first item: a run of one goes out as it came
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
