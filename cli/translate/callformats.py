"""Where tool calls written as text begin and end: the markers of every format, and the registry.

For each format: the marker that opens it, how the scanner (textcalls.py) tells an opening in
prose from a call by the few characters after it (`decide`, bounded: an opening still undecided
after _HEAD_MAX characters is prose), where the call ends, and its parser (callparse.py, where
each cites its source). Checked 2026-12-02.
"""

import re
from collections.abc import Callable
from typing import Final, Literal

from freeclaude.profiles.providers import TEXT_CALL_FORMATS
from freeclaude.translate.callparse import (
    HARMONY_HEAD,
    TOOL_CALL_TAG,
    Parser,
    Tools,
    json_in,
    parse_deepseek,
    parse_fenced,
    parse_gemma,
    parse_harmony,
    parse_invoke,
    parse_json,
    parse_kimi,
    parse_mistral,
    parse_python_tag,
    parse_pythonic,
    parse_qwen3_coder,
    parse_tool_call,
    parse_tool_call_attrs,
    parse_tool_call_brackets,
)

# What the text after a marker says about it; a fence can also open an ordinary code block,
# which is never read for calls.
Verdict = Literal["call", "undecided", "prose", "code block"]
CALL: Final = "call"
UNDECIDED: Final = "undecided"
PROSE: Final = "prose"
CODE_BLOCK: Final = "code block"
Decide = Callable[[str, int, Tools], Verdict]  # (text, where the marker is, the offered tools)
# A call's opening (marker, blank lines, tool name) is short: an opening still undecided after this
# many characters is prose, and no decision reads further than this, so no text is read over and over.
HEAD_MAX = 256


_WS = re.compile(r"\s*")


def skip_spaces(buf: str, i: int) -> int:
    """Where the first character that is not white space lies, from `i` on."""
    blank = _WS.match(buf, i)  # "\s*" matches everywhere
    return blank.end() if blank else i


def begins(buf: str, i: int, word: str) -> bool | None:
    """Whether `buf` has `word` at `i`; None while what is there is too short to tell."""
    if len(buf) - i >= len(word):
        return buf.startswith(word, i)
    return None if word.startswith(buf[i:]) else False


def _decide_json_after(marker: str) -> Decide:
    """A marker that a JSON object follows (Hermes <tool_call>, <function_call>, <tools>, LM Studio)."""
    def decide(buf: str, i: int, tools: Tools) -> Verdict:
        head = skip_spaces(buf, i + len(marker))
        if head == len(buf):
            return UNDECIDED
        return CALL if buf[head] in "{[" else PROSE
    return decide


def _decide_tool_call(buf: str, i: int, tools: Tools) -> Verdict:
    """<tool_call> opens Hermes JSON, Qwen3-Coder XML, <function>NAME</function> JSON, or GLM."""
    head = skip_spaces(buf, i + len("<tool_call>"))
    if head == len(buf):
        return UNDECIDED
    if buf[head] in "{[":
        return CALL
    return _opens(buf, head, ("<function=", "<function>")) or _decide_name(buf, head, tools)


def _decide_name(buf: str, head: int, tools: Tools) -> Verdict:
    """An offered tool's name written at `head` (GLM's <tool_call>NAME, Mistral's [TOOL_CALLS]NAME)."""
    end = head
    while end < len(buf) and (buf[end].isalnum() or buf[end] in "_-.:"):
        end += 1
    word = buf[head:end]
    if end == len(buf):
        return UNDECIDED if tools.may_begin(word) else PROSE
    if tools.resolve(word) or tools.prefix(word):
        return CALL
    return PROSE


def _decide_tool_call_attrs(buf: str, i: int, tools: Tools) -> Verdict:
    """<tool_call id="…" name="NAME"> then JSON arguments (DeepSeek V4 Pro, felinics/Memoh#435)."""
    end = buf.find(">", i)
    if end < 0:
        return UNDECIDED if len(buf) - i < 160 else PROSE
    tag = TOOL_CALL_TAG.match(buf, i)
    return CALL if tag and tag.end() == end + 1 and tools.resolve(tag.group(1)) else PROSE


def _decide_function_eq(buf: str, i: int, tools: Tools) -> Verdict:
    """<function=NAME> followed by <parameter=…>, </function> or a JSON object (Llama 3.1's
    <function=NAME>{…}</function> in its chat template)."""
    name_end = i + len("<function=")
    while name_end < len(buf) and buf[name_end] not in "<>\n ":
        name_end += 1
    if name_end == len(buf):
        return UNDECIDED if name_end - i < 80 else PROSE
    if buf[name_end] != ">" or not tools.resolve(buf[i + len("<function="):name_end]):
        return PROSE
    head = skip_spaces(buf, name_end + 1)
    if head == len(buf):
        return UNDECIDED
    if buf[head] == "{":
        return CALL
    return _opens(buf, head, ("<parameter=", "</function>")) or PROSE


def _opens(buf: str, head: int, words: tuple[str, ...]) -> Verdict | None:
    """CALL when one of `words` is written at `head`, UNDECIDED while the text so far could still
    become one, None when none is."""
    for word in words:
        verdict = begins(buf, head, word)
        if verdict is None:
            return UNDECIDED
        if verdict:
            return CALL
    return None


_FIRST_KEY = re.compile(r'\{\s*"([A-Za-z_]+)"\s*:\s*')


_CALL_KEYS = ("name", "tool_calls", "type", "function", "arguments", "parameters", "tool", "tool_name")


def decide_json(buf: str, i: int, tools: Tools) -> Verdict:
    """A JSON object or array at the start of a line: a call only if it names an offered tool."""
    if buf[i] == "[":
        head = skip_spaces(buf, i + 1)
        if head == len(buf):
            return UNDECIDED
        return decide_json(buf, head, tools) if buf[head] == "{" else PROSE
    if len(buf) - i < 2:
        return UNDECIDED
    key = _FIRST_KEY.match(buf, i)
    if key is None:
        rest = buf[i:]
        if len(rest) < 24 and re.fullmatch(r'\{\s*("[A-Za-z_]*("\s*(:\s*)?)?)?', rest):
            return UNDECIDED
        return PROSE
    if key.group(1) not in _CALL_KEYS:
        return PROSE
    if key.group(1) in ("name", "tool", "tool_name"):
        value = key.end()
        if value == len(buf):
            return UNDECIDED
        if buf[value] != '"':
            return PROSE
        close = buf.find('"', value + 1)
        if close < 0:
            return UNDECIDED if tools.may_begin(buf[value + 1:]) else PROSE
        return CALL if tools.resolve(buf[value + 1:close]) else PROSE
    return CALL


def _decide_pythonic(buf: str, i: int, tools: Tools) -> Verdict:
    if buf[i] != "[":
        return PROSE
    head = skip_spaces(buf, i + 1)
    end = head
    while end < len(buf) and (buf[end].isalnum() or buf[end] in "_.-"):
        end += 1
    if end == len(buf):
        return UNDECIDED if tools.may_begin(buf[head:end]) or head == end else PROSE
    if buf[end] != "(" or not tools.resolve(buf[head:end]):
        return PROSE
    return CALL


def decide_mistral(buf: str, i: int, tools: Tools) -> Verdict:
    head = skip_spaces(buf, i + len("[TOOL_CALLS]"))
    while head < len(buf) and buf[head] == "▁":
        head += 1
    if head == len(buf):
        return UNDECIDED
    if buf[head] in "[{":
        return CALL
    return _decide_name(buf, head, tools)


def _decide_after(inner: tuple[str, ...], decide_name: Decide) -> Decide:
    """Markers (a section's, then a call's) that must be followed by a call naming an offered tool."""
    def decide(buf: str, i: int, tools: Tools) -> Verdict:
        head = buf.find(">", i) + 1
        for marker in inner:
            head = skip_spaces(buf, head)
            verdict = begins(buf, head, marker)
            if verdict is None:
                return UNDECIDED
            if verdict:
                head += len(marker)
        return decide_name(buf, skip_spaces(buf, head), tools)
    return decide


_KIMI_ID = re.compile(r"(?:functions\.)?([^\s<:]+)(?::\d+)?\s*<\|tool_call_argument_begin\|>")


def _decide_kimi_name(buf: str, head: int, tools: Tools) -> Verdict:
    """functions.NAME:0 (or NAME:0) up to the argument marker; undecided until it comes (the
    scanner bounds how long)."""
    m = _KIMI_ID.match(buf, head)
    if m is None:
        return UNDECIDED
    return CALL if tools.resolve(m.group(1)) else PROSE


_DS_V3_NAME = re.compile(r"function\s*<[｜|]tool▁sep[｜|]>\s*([^\n<]*)(\n)?")


_DS_V31_NAME = re.compile(r"([^<\n]+?)\s*<[｜|]tool▁sep[｜|]>")


def _decide_ds_name(buf: str, head: int, tools: Tools) -> Verdict:
    """function<｜tool▁sep｜>NAME then a line break (V3), or NAME<｜tool▁sep｜> (V3.1)."""
    v3 = _DS_V3_NAME.match(buf, head)
    if v3 is not None:
        name = v3.group(1).strip()
        if v3.group(2) is None:
            return UNDECIDED if tools.may_begin(name) else PROSE
        return CALL if tools.resolve(name) else PROSE
    m = _DS_V31_NAME.match(buf, head)
    if m is None:
        return UNDECIDED
    return CALL if tools.resolve(m.group(1)) else PROSE


# what a wrapper's first invoke begins with: DSML's, the plain one, and MiniMax's with its "<" dropped
# (exo-explore/exo#1882; inside the wrapper, which is one token and comes whole)
_INVOKES = ("<｜DSML｜invoke", "<invoke", "invoke")


def _decide_invoke_block(marker: str) -> Decide:
    """A wrapper (its '>' may be missing, opencode#24566) that an <invoke name="…"> follows."""
    def decide(buf: str, i: int, tools: Tools) -> Verdict:
        head = i + len(marker)
        if head < len(buf) and buf[head] == ">":
            head += 1
        head = skip_spaces(buf, head)
        if head == len(buf):
            return UNDECIDED
        verdicts = [begins(buf, head, word) for word in _INVOKES]
        if True in verdicts:
            return _decide_invoke(buf, head, tools, len(_INVOKES[verdicts.index(True)]))
        return UNDECIDED if None in verdicts else PROSE
    return decide


def _decide_invoke(buf: str, i: int, tools: Tools, skip: int = len("<invoke")) -> Verdict:
    head = skip_spaces(buf, i + skip)
    verdict = begins(buf, head, 'name="')
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    start = head + len('name="')
    close = buf.find('"', start)
    if close < 0:
        return UNDECIDED if tools.may_begin(buf[start:]) else PROSE
    return CALL if tools.resolve(buf[start:close]) else PROSE


def decide_harmony(buf: str, i: int, tools: Tools) -> Verdict:
    """A harmony message header, up to its <|message|>."""
    end = buf.find("<|message|>", i)
    if end < 0:
        return UNDECIDED if len(buf) - i < 160 else PROSE
    return CALL if HARMONY_HEAD.match(buf, i) else PROSE


def decide_gemma(buf: str, i: int, tools: Tools) -> Verdict:
    head = skip_spaces(buf, i + len("<|tool_call>"))
    verdict = begins(buf, head, "call:")
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    return _decide_name(buf, head + len("call:"), tools)


class Format:
    """How one format is found in a stream and read."""

    __slots__ = ("name", "marker", "decide", "parse", "ends", "stops", "balanced", "strays", "head_end", "closers", "keep")

    def __init__(self, name: str, marker: str, decide: Decide, parse: Parser, ends: tuple[str, ...] = (),
                 stops: tuple[str, ...] = (), balanced: bool = False, strays: tuple[str, ...] = (), head_end: str = "") -> None:
        self.name = name  # the family a quirk turns off (TEXT_CALL_FORMATS)
        self.marker = marker  # the literal text that opens it
        self.decide = decide
        self.parse = parse  # the items of one call block, or None when it is not calls
        self.ends = ends  # markers that end it, part of it
        self.stops = stops  # markers that end it, part of what follows
        self.balanced = balanced  # it ends where its first JSON value or list closes
        self.strays = strays  # closing markers to drop when they follow it (a wrapper half-written)
        self.head_end = head_end  # its end markers count only after this (a header that may hold them)
        self.closers = ends + stops
        self.keep = max(map(len, self.closers), default=1) - 1  # characters that may begin a split closer


def _decide_seed(buf: str, i: int, tools: Tools) -> Verdict:
    head = skip_spaces(buf, i + len("<seed:tool_call>"))
    verdict = begins(buf, head, "<function=")
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    return _decide_function_eq(buf, head, tools)


def _decide_python_start(buf: str, i: int, tools: Tools) -> Verdict:
    head = skip_spaces(buf, i + len("<|python_start|>"))
    if head == len(buf):
        return UNDECIDED
    if buf[head] == "{":
        return decide_json(buf, head, tools)
    return _decide_pythonic(buf, head, tools) if buf[head] == "[" else PROSE


def _decide_lfm2(buf: str, i: int, tools: Tools) -> Verdict:
    head = skip_spaces(buf, i + len("<|tool_call_start|>"))
    if head == len(buf):
        return UNDECIDED
    if buf[head] == "[":
        return _decide_pythonic(buf, head, tools)
    return decide_json(buf, head, tools) if buf[head] == "{" else PROSE


_KIMI_STRAYS = ("<|tool_calls_section_end|>", "<|tool_call_section_end|>")


_KIMI_SECTION = _decide_after(("<|tool_call_begin|>",), _decide_kimi_name)


_HARMONY_ENDS, _HARMONY_STOPS = ("<|call|>", "<|end|>", "<|return|>"), ("<|start|>", "<|channel|>")


_DS_BEGIN, _DS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"


_DS_STRAYS = ("<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>")


_DSML_STRAYS = ("</｜DSML｜function_calls>", "</｜DSML｜tool_calls>")


FORMATS = (
    Format("hermes", "<tool_call>", _decide_tool_call, parse_tool_call, ends=("</tool_call>",)),
    Format("hermes", "<tool_call ", _decide_tool_call_attrs, parse_tool_call_attrs, ends=("</tool_call>",)),
    Format("hermes", "<function_call>", _decide_json_after("<function_call>"),
           json_in("<function_call>", "</function_call>",
                   "the tag Qwen2.5 was trained with before <tool_call> (thinking-machines-lab/tinker-cookbook#58)"),
           ends=("</function_call>",)),
    Format("hermes", "<tools>", _decide_json_after("<tools>"),
           json_in("<tools>", "</tools>", "Hermes 2 Pro's tool tags (NousResearch/Hermes-Function-Calling#17)"),
           ends=("</tools>",)),
    Format("qwen3_coder", "<function=", _decide_function_eq, parse_qwen3_coder, ends=("</function>",), strays=("</tool_call>",)),
    Format("seed", "<seed:tool_call>", _decide_seed, parse_qwen3_coder, ends=("</seed:tool_call>",)),
    Format("lmstudio", "[TOOL_REQUEST]", _decide_json_after("[TOOL_REQUEST]"),
           json_in("[TOOL_REQUEST]", "[END_TOOL_REQUEST]", "LM Studio's default tool-use prompt for models without a "
                   "template of their own (its tool-use docs; lmstudio-ai/mlx-engine#97)"),
           ends=("[END_TOOL_REQUEST]",)),
    Format("mistral", "[TOOL_CALLS]", decide_mistral, parse_mistral, ends=("</s>",)),
    Format("llama", "<|python_tag|>", _decide_json_after("<|python_tag|>"), parse_python_tag, ends=("<|eom_id|>", "<|eot_id|>")),
    Format("llama", "<|python_start|>", _decide_python_start, parse_pythonic, ends=("<|python_end|>",)),
    Format("pythonic", "<|tool_call_start|>", _decide_lfm2, parse_pythonic, ends=("<|tool_call_end|>",)),
    Format("kimi", "<|tool_calls_section_begin|>", _KIMI_SECTION, parse_kimi, ends=_KIMI_STRAYS),
    Format("kimi", "<|tool_call_section_begin|>", _KIMI_SECTION, parse_kimi, ends=_KIMI_STRAYS),
    Format("kimi", "<|tool_call_begin|>", _decide_after((), _decide_kimi_name), parse_kimi,
           ends=("<|tool_call_end|>",), strays=_KIMI_STRAYS),
    Format("deepseek", _DS_BEGIN, _decide_after(("<｜tool▁call▁begin｜>",), _decide_ds_name), parse_deepseek,
           ends=(_DS_END,), strays=_DS_STRAYS),
    Format("deepseek", "<｜tool▁call▁begin｜>", _decide_after((), _decide_ds_name), parse_deepseek,
           ends=("<｜tool▁call▁end｜>",), strays=(_DS_END, *_DS_STRAYS)),
    Format("deepseek", "<|tool▁calls▁begin|>", _decide_after(("<|tool▁call▁begin|>",), _decide_ds_name), parse_deepseek,
           ends=("<|tool▁calls▁end|>",), strays=_DS_STRAYS),
    Format("deepseek", "<｜DSML｜function_calls", _decide_invoke_block("<｜DSML｜function_calls"), parse_invoke,
           ends=("</｜DSML｜function_calls>",)),
    Format("deepseek", "<｜DSML｜tool_calls", _decide_invoke_block("<｜DSML｜tool_calls"), parse_invoke,
           ends=("</｜DSML｜tool_calls>",)),
    Format("deepseek", "<｜DSML｜invoke", lambda b, i, t: _decide_invoke(b, i, t, len("<｜DSML｜invoke")), parse_invoke,
           ends=("</｜DSML｜invoke>",), strays=_DSML_STRAYS),
    Format("deepseek", "<function_calls", _decide_invoke_block("<function_calls"), parse_invoke, ends=("</function_calls>",)),
    Format("minimax", "<minimax:tool_call", _decide_invoke_block("<minimax:tool_call"), parse_invoke,
           ends=("</minimax:tool_call>",)),
    Format("minimax", "<invoke", _decide_invoke, parse_invoke,
           ends=("</invoke>",), strays=("</minimax:tool_call>", "</function_calls>")),
    Format("minimax", "[TOOL_CALL]", _decide_json_after("[TOOL_CALL]"), parse_tool_call_brackets, ends=("[/TOOL_CALL]",)),
    Format("gemma", "<|tool_call>", decide_gemma, parse_gemma, ends=("<tool_call|>",)),
    Format("harmony", "<|channel|>", decide_harmony, parse_harmony,
           ends=_HARMONY_ENDS, stops=_HARMONY_STOPS, head_end="<|message|>"),
    Format("harmony", "<|start|>", decide_harmony, parse_harmony,
           ends=_HARMONY_ENDS, stops=_HARMONY_STOPS, head_end="<|message|>"),
)


# Found by position rather than by marker: a JSON object (or an array of them) or a pythonic
# list at the start of a line, and a fenced block (its info string and first line decide).
LINE_FORMATS = (
    Format("json", "", decide_json, parse_json, balanced=True),
    Format("pythonic", "", _decide_pythonic, parse_pythonic, balanced=True),
)


_FENCE_INFO = re.compile(r"[\w+#.\-]*[ \t]*\Z")


def _decide_fenced(buf: str, i: int, tools: Tools) -> Verdict:
    """A block whose body starts with a JSON object or array may be a call (whatever its language
    tag); any other is an ordinary code block."""
    line_end = buf.find("\n", i)
    info = buf[i + 3: len(buf) if line_end < 0 else line_end]
    if not _FENCE_INFO.match(info):
        return CODE_BLOCK
    if line_end < 0:
        return UNDECIDED
    head = skip_spaces(buf, line_end + 1)
    if head == len(buf):
        return UNDECIDED
    return CALL if buf[head] in "{[" else CODE_BLOCK


FENCED = Format("fenced", "```", _decide_fenced, parse_fenced, ends=("```",))


# GLM has no marker of its own: it is read inside Hermes's <tool_call> (parse_tool_call).
assert {f.name for f in (*FORMATS, *LINE_FORMATS, FENCED)} | {"glm"} == set(TEXT_CALL_FORMATS), \
    "providers.TEXT_CALL_FORMATS lists every format"
