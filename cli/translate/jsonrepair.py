"""Tool-call arguments as one JSON object, repaired while they stream.

Open models write arguments with trailing commas, single quotes, Python literals, bare keys,
unescaped quotes or newlines inside strings, missing closing braces, code fences, or a JSON
string holding the object. `Args` rewrites such text into valid JSON incrementally, so that
arguments that are fine stream as they arrive and repairs cost nothing extra. Text that cannot
be repaired is never turned into `{}`: the result names the problem in `_invalid_arguments`
and nulls the keys already sent, so the tool call fails validation and the model retries
instead of a tool running on half its input.
"""

import json
import re

INVALID_KEY = "_invalid_arguments"

_DQ_STOP = re.compile(r'[\\"\x00-\x1f]')
_SQ_STOP = re.compile(r"[\\'\"\x00-\x1f]")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
_LITERALS = {"true": "true", "false": "false", "null": "null", "True": "true", "False": "false", "None": "null"}
_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = frozenset('"\\/bfnrtu')
_LITERAL_CHARS = frozenset("+-.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_SPACE = frozenset(" \t\r\n")

# What the scanner expects next.
_START, _VALUE, _KEY_OR_END, _KEY, _COLON, _AFTER, _STRING, _LITERAL, _QUOTE_END, _DONE = range(10)


class Args:
    """Feed argument fragments, get back text that is always a prefix of the final JSON."""

    __slots__ = (
        "_raw", "_state", "_stack", "_quote", "_is_key", "_escape", "_lit", "_comma",
        "_held", "_key", "_keys", "_buffering", "broken", "repaired", "overflow",
    )

    def __init__(self) -> None:
        self._raw: list[str] = []
        self._state = _START
        self._stack: list[str] = []
        self._quote = '"'
        self._is_key = False
        self._escape = False
        self._lit: list[str] = []  # a literal or bare key being read
        self._comma = False  # a comma seen but held: it may turn out to be trailing
        self._held = ""  # whitespace after a possibly closing quote
        self._key: list[str] = []  # the top-level key being read (to null it if broken)
        self._keys: list[str] = []
        self._buffering = False  # the text does not start with "{": repair it whole at the end
        self.broken = ""  # why the text stopped being repairable, if it did
        self.repaired = False
        self.overflow = ""  # what came after the complete object (a second object run on, a fence)

    # -------------------------------------------------------------- public

    def feed(self, text: object) -> str:
        if not isinstance(text, str):
            text = json.dumps(text) if isinstance(text, dict) else str(text or "")
        self._raw.append(text)
        if self.overflow:
            self.overflow += text
            return ""
        if self._buffering or self.broken:
            return ""
        out: list[str] = []
        self._scan(text, out)
        return "".join(out)

    def finish(self) -> str:
        """The text that completes the JSON object."""
        if self._buffering:
            return self._whole()
        if self._state == _START:
            return self._error_object() if self.broken else "{}"  # "{}": a call that takes no arguments
        out: list[str] = []
        if not self.broken:
            if self._state == _LITERAL:
                self._end_literal(out)
        if self.broken:
            return "".join(out) + self._invalid_closure()
        if self._state != _DONE:
            self.repaired = True
            self._close(out)
        return "".join(out)

    def cut(self, why: str) -> None:
        """The arguments ended early (at max_tokens): unless complete, they must not run."""
        if self._state != _DONE and not self.broken:
            self.broken = why

    @property
    def raw(self) -> str:
        return "".join(self._raw)

    # -------------------------------------------------------------- scanner

    def _fail(self, why: str) -> None:
        self.broken = "the model's arguments were not valid JSON: " + why

    def _scan(self, text: str, out: list[str]) -> None:
        i, n = 0, len(text)
        while i < n and not self.broken:
            state = self._state
            if state == _STRING:
                i = self._string(text, i, out)
                continue
            c = text[i]
            if state == _LITERAL:
                if c in _LITERAL_CHARS:
                    self._lit.append(c)
                    i += 1
                    continue
                self._end_literal(out)
                continue  # the delimiter is handled in the new state
            if state == _QUOTE_END:
                if c in _SPACE:
                    self._held += c
                    i += 1
                    continue
                if (c == ":") if self._is_key else (c in ",}]"):
                    out.append('"')
                    self._end_key()
                    self._state = _COLON if self._is_key else _AFTER
                    self._held = ""
                    continue
                if c == '"' and not self._is_key and "\n" in self._held and self._stack[-1] == "{":
                    # A new line opening a new key: the comma between members is missing.
                    self.repaired = True
                    out.append('"')
                    self._held = ""
                    self._comma = True
                    self._state = _KEY
                    continue
                # The quote was inside the string: a model that forgot to escape it.
                self.repaired = True
                out.append('\\"' + self._held)
                if self._is_key:
                    self._key.append('"' + self._held)
                self._held = ""
                self._state = _STRING
                continue
            i += 1
            if c in _SPACE:
                continue
            if state == _START:
                if c != "{":
                    self._buffering = True
                    return
                self._open("{", out)
            elif state == _VALUE:
                self._value(c, out)
            elif state in (_KEY_OR_END, _KEY):
                if c == "}" and state == _KEY_OR_END:
                    self._close_one(out)
                elif c == "}":  # a trailing comma
                    self.repaired = True
                    self._comma = False
                    self._close_one(out)
                elif c in "\"'":
                    self._flush_comma(out)
                    out.append('"')
                    self._begin_string(c, key=True)
                elif c in _LITERAL_CHARS:  # a bare key, as in JavaScript
                    self.repaired = True
                    self._flush_comma(out)
                    self._is_key = True
                    self._lit = [c]
                    self._state = _LITERAL
                else:
                    self._fail(f"expected a key, got {c!r}")
            elif state == _COLON:
                if c == ":":
                    out.append(":")
                    self._state = _VALUE
                else:
                    self._fail(f"expected ':', got {c!r}")
            elif state == _AFTER:
                if c == ",":
                    self._comma = True
                    self._state = _KEY if self._stack[-1] == "{" else _VALUE
                elif c in "}]":
                    if (c == "}") != (self._stack[-1] == "{"):
                        self._fail(f"unexpected {c!r}")
                    else:
                        self._close_one(out)
                else:
                    self._fail(f"expected ',' or a closing bracket, got {c!r}")
            elif state == _DONE:
                self.repaired = True  # text after a complete object (a closing fence, a stray brace)
                self.overflow = text[i - 1:]
                return

    def _value(self, c: str, out: list[str]) -> None:
        if c == "]" and self._stack[-1] == "[":
            if self._comma:
                self.repaired = True
                self._comma = False
            self._close_one(out)
            return
        if not (c in "{[\"'" or c in _LITERAL_CHARS):
            self._fail(f"expected a value, got {c!r}")  # before the held comma goes out
            return
        self._flush_comma(out)
        if c in "{[":
            self._open(c, out)
        elif c in "\"'":
            out.append('"')
            self._begin_string(c, key=False)
        else:
            self._is_key = False
            self._lit = [c]
            self._state = _LITERAL

    def _begin_string(self, quote: str, key: bool) -> None:
        if quote == "'":
            self.repaired = True
        self._quote, self._is_key, self._state = quote, key, _STRING
        self._key = []

    def _string(self, text: str, i: int, out: list[str]) -> int:
        """Copies string content up to its closing quote; returns the next index."""
        if self._escape:
            self._escape = False
            c = text[i]
            if self._quote == "'" and c == "'":
                piece = "'"
            elif c in _ESCAPES:
                piece = "\\" + c
            else:  # an escape JSON does not know: keep the backslash literally
                self.repaired = True
                piece = "\\\\" + _CONTROL.get(c, c)
            out.append(piece)
            if self._is_key:
                self._key.append(piece)
            return i + 1
        stop = (_DQ_STOP if self._quote == '"' else _SQ_STOP).search(text, i)
        end = stop.start() if stop else len(text)
        if end > i:
            out.append(text[i:end])
            if self._is_key:
                self._key.append(text[i:end])
        if not stop:
            return end
        c = text[end]
        if c == "\\":
            self._escape = True  # the next call, from the scan loop, takes the escaped character
            return end + 1
        if c == self._quote:
            if self._quote == '"':
                self._state = _QUOTE_END  # decided by the next significant character
            else:
                out.append('"')
                self._state = _COLON if self._is_key else _AFTER
                self._end_key()
            return end + 1
        # a double quote inside a single-quoted string, or a raw control character
        self.repaired = True
        piece = '\\"' if c == '"' else _CONTROL.get(c, f"\\u{ord(c):04x}")
        out.append(piece)
        if self._is_key:
            self._key.append(piece)
        return end + 1

    def _end_key(self) -> None:
        if self._is_key and len(self._stack) == 1:
            try:
                self._keys.append(json.loads('"' + "".join(self._key) + '"'))
            except ValueError:
                pass
        self._key = []

    def _end_literal(self, out: list[str]) -> None:
        word = "".join(self._lit)
        self._lit = []
        if self._is_key:
            out.append('"' + word + '"')
            self._key = [word]
            self._end_key()
            self._state = _COLON
            return
        if word in _LITERALS:
            if word not in ("true", "false", "null"):
                self.repaired = True
            out.append(_LITERALS[word])
        elif _NUMBER.match(word):
            out.append(word)
        else:
            try:
                number = float(word)
            except ValueError:
                self._fail(f"{word!r} is not a JSON value")
                return
            if number != number or number in (float("inf"), float("-inf")):
                self._fail(f"{word!r} is not a JSON number")
                return
            self.repaired = True
            out.append(json.dumps(int(number) if number.is_integer() else number))
        self._state = _AFTER

    def _flush_comma(self, out: list[str]) -> None:
        if self._comma:
            out.append(",")
            self._comma = False

    def _open(self, c: str, out: list[str]) -> None:
        self._stack.append(c)
        out.append(c)
        self._state = _KEY_OR_END if c == "{" else _VALUE

    def _close_one(self, out: list[str]) -> None:
        out.append("}" if self._stack.pop() == "{" else "]")
        self._state = _AFTER if self._stack else _DONE

    def _close(self, out: list[str]) -> None:
        """Completes whatever is open: a string, a key without value, containers."""
        state = self._state
        if state == _STRING:
            out.append('"')
            self._end_key()
            state = _COLON if self._is_key else _AFTER
        elif state == _QUOTE_END:
            out.append('"')
            self._end_key()
            state = _COLON if self._is_key else _AFTER
        if state == _COLON:
            out.append(":null")
        elif state == _VALUE and self._stack and self._stack[-1] == "{":
            out.append("null")  # a key and colon without their value
        self._comma = False
        while self._stack:
            out.append("}" if self._stack.pop() == "{" else "]")
        self._state = _DONE

    def _invalid_closure(self) -> str:
        """Valid JSON that says why and makes the call fail validation rather than run."""
        out: list[str] = []
        self._close_nested(out)
        nulls = "".join(f"{json.dumps(k)}:null," for k in dict.fromkeys(self._keys))
        sep = "" if self._state == _KEY_OR_END else ","
        detail = {"error": self.broken, "raw": self.raw}
        out.append(sep + nulls + json.dumps(INVALID_KEY) + ":" + json.dumps(detail, ensure_ascii=False) + "}")
        return "".join(out)

    def _close_nested(self, out: list[str]) -> None:
        """Closes everything but the top-level object, leaving it after a member or empty."""
        state = self._state
        if state in (_STRING, _QUOTE_END):
            out.append('"')
            state = _COLON if self._is_key else _AFTER
        elif state == _LITERAL:
            out.append('"' + "".join(self._lit) + '"' if self._is_key else "null")
            state = _COLON if self._is_key else _AFTER
        if state == _COLON:
            out.append(":null")
            state = _AFTER
        elif state == _VALUE and self._stack[-1] == "{":
            out.append("null")
            state = _AFTER
        elif state == _KEY:
            state = _AFTER  # the held comma was never sent
        while len(self._stack) > 1:
            out.append("}" if self._stack.pop() == "{" else "]")
            state = _AFTER
        self._state = state

    # -------------------------------------------------------------- whole-text repair

    def _whole(self) -> str:
        text = self.raw.strip()
        value = None if self.broken else _repair_whole(text, depth=0)
        if value is not None:
            self.repaired = value != text
            return value
        self.broken = self.broken or "the model's arguments were not a JSON object"
        return self._error_object()

    def _error_object(self) -> str:
        return json.dumps({INVALID_KEY: {"error": self.broken, "raw": self.raw}}, ensure_ascii=False)


_FENCE = re.compile(r"\A```[\w-]*[^\S\n]*\n?(.*?)\n?```\s*\Z", re.S)


def _repair_whole(text: str, depth: int) -> str | None:
    if not text:
        return "{}"
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if text.startswith('"') and depth < 2:  # a JSON string holding the object
        try:
            inner = json.loads(text)
        except ValueError:
            inner = None
        if isinstance(inner, str):
            return _repair_whole(inner.strip(), depth + 1)
    start = text.find("{")
    if start < 0:
        return None
    args = Args()
    done = args.feed(text[start:]) + args.finish()
    return None if args.broken else done
