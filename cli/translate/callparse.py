"""A tool call's text, read: the parser of each format open models write calls in.

Each `parse_*` takes the text of one call block, as the scanner (textcalls.py) found it with the
format's markers (callformats.py), and returns the items it holds: ("call", name, args), and for
gpt-oss harmony also ("think", text) and ("text", text); or None when the text is not
unambiguously calls, which then stays text. Only names the request offers become calls, and only
with arguments argcheck.check lets through.

Every parser cites where its grammar comes from: the model's chat template, or the parser of the
project that serves it (vLLM's vllm/tool_parsers, llama.cpp's common/chat.cpp and
common/chat-parser.cpp, SGLang's python/sglang/srt/function_call), and the issues that showed its
variants. Checked 2026-12-02.
"""

import ast
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from freeclaude.translate.argcheck import check
from freeclaude.translate.jsonrepair import Args

# What a parser finds, and what the scanner hands on: text, reasoning, or a call with its arguments.
TextItem = tuple[Literal["text", "think"], str]
CallItem = tuple[Literal["call"], str, dict[str, Any]]
Item = TextItem | CallItem
Parser = Callable[[str, "Tools"], Sequence[Item] | None]
_T = TypeVar("_T")


class Tools:
    """The offered tools: name -> input schema, and the lookups the parsers share."""

    __slots__ = ("schemas", "_folded", "names", "off")

    def __init__(self, schemas: dict[str, dict[str, Any]], off: frozenset[str] = frozenset()) -> None:
        self.schemas = schemas
        self.off = off  # formats a quirk turned off
        self.names = sorted(schemas, key=len, reverse=True)  # longest first: prefixes resolve to the longest
        folded: dict[str, list[str]] = {}
        for name in schemas:
            folded.setdefault(name.lower(), []).append(name)
        self._folded = folded

    def resolve(self, name: object) -> str | None:
        """The offered tool a written name means: itself, or the one tool equal but for case."""
        if not isinstance(name, str):
            return None
        name = name.strip()
        if name in self.schemas:
            return name
        same = self._folded.get(name.lower())
        return same[0] if same and len(same) == 1 else None

    def prefix(self, text: str) -> str | None:
        """The longest offered name `text` begins with."""
        for name in self.names:
            if text.startswith(name):
                return name
        return None

    def may_begin(self, text: str) -> bool:
        """Whether `text` is the start of an offered name (or begins with a whole one)."""
        low = text.lower()
        return any(n.lower().startswith(low) or low.startswith(n.lower()) for n in self.names)

    def call(self, name: object, args: object) -> CallItem | None:
        tool = self.resolve(name)
        if tool is None:
            return None
        args = check(args, self.schemas[tool])
        return None if args is None else ("call", tool, args)


def obj(text: str) -> Any:
    """A JSON value from text a model wrote, repaired as tool arguments are; None if it is not one."""
    text = text.strip()
    if not text:
        return None
    if text[0] != "{":
        try:
            return json.loads(text)
        except ValueError:
            return None
    args = Args()
    try:
        value = json.loads(args.feed(text) + args.finish())
    except ValueError:
        return None
    return None if args.broken or args.overflow.strip() else value


def _arguments(value: object) -> object:
    """Arguments as written: an object, or a JSON string holding one (encoded once or twice)."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        value = obj(value)
    return value


def _json_calls(value: object, tools: Tools) -> list[CallItem] | None:
    """Calls from the JSON shapes models write: {name, arguments|parameters}, an array of them,
    {"tool_calls": [...]}, {"type": "function", "function": {...}}, {"tool": …, "args": …}."""
    if isinstance(value, list):
        return _every([_json_calls(v, tools) for v in value]) if value else None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("tool_calls"), list) and len(value) <= 2:
        return _json_calls(value["tool_calls"], tools)
    fn = value.get("function")
    if isinstance(fn, dict):
        value = fn
    name = value.get("name", value.get("tool", value.get("tool_name")))
    for key in ("arguments", "parameters", "args", "input"):
        if key in value:
            args = _arguments(value[key])
            break
    else:
        args = {}
    call = tools.call(name, args)
    return None if call is None else [call]


def _json_text(text: str, tools: Tools) -> list[CallItem] | None:
    """One JSON value, or several written one after another (';' or newlines between them)."""
    text = text.strip()
    value = obj(text)
    if value is not None:
        return _json_calls(value, tools)
    parts = _split_json(text)
    if len(parts) < 2:
        return None
    return _every([_json_text(p, tools) for p in parts])


def _every(parts: list[list[CallItem] | None]) -> list[CallItem] | None:
    """The calls of every part, or None when a part is not calls."""
    calls: list[CallItem] = []
    for part in parts:
        if part is None:
            return None
        calls += part
    return calls


def _split_json(text: str) -> list[str]:
    """Top-level JSON objects or arrays written one after another."""
    parts: list[str] = []
    depth, start, quote, escape = 0, None, "", False
    for i, c in enumerate(text):
        if quote:
            if escape:
                escape = False
            elif c == "\\":
                escape = True
            elif c == quote:
                quote = ""
        elif c == '"':
            quote = c
        elif c in "{[":
            if depth == 0:
                start = i
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0 and start is not None:
                parts.append(text[start:i + 1])
                start = None
            if depth < 0:
                return []
        elif depth == 0 and c not in " \t\r\n;,":
            return []
    return parts if depth == 0 else []


_FUNCTION_TAG = re.compile(r"\s*<function>\s*([^<\s]+)\s*</function>\s*(.*)\Z", re.S)


def _each(pattern: re.Pattern[str], body: str, read: Callable[[re.Match[str]], _T | None],
          empty_ok: bool = False) -> list[_T] | None:
    """`read` of every match of `pattern` in `body`, which holds nothing else but blanks: None if
    something else is there, if `read` refuses a match, or if there is no match (unless `empty_ok`)."""
    out: list[_T] = []
    pos = 0
    for m in pattern.finditer(body):
        if body[pos:m.start()].strip():
            return None
        pos = m.end()
        item = read(m)
        if item is None:
            return None
        out.append(item)
    return out if (out or empty_ok) and not body[pos:].strip() else None


def parse_tool_call(text: str, tools: Tools) -> list[CallItem] | None:
    """Inside <tool_call>…</tool_call>: Hermes JSON (Qwen2.5/Qwen3 chat template; vLLM
    hermes_tool_parser.py), Qwen3-Coder XML (qwen3coder_tool_parser.py), <function>NAME</function>
    then JSON (seen from Qwen3.6 and Gemma 3, mlx-omni-server#126), or GLM (glm4_moe_tool_parser.py)."""
    body = _strip(text, "<tool_call>", "</tool_call>")
    head = body.lstrip()
    if head[:1] in "{[":
        return _json_text(head, tools)
    if head.startswith("<function="):
        return None if "qwen3_coder" in tools.off else parse_qwen3_coder(head, tools)
    named = _FUNCTION_TAG.match(body)
    if named:
        args = obj(named.group(2)) if named.group(2).strip() else {}
        call = tools.call(named.group(1), args)
        return None if call is None else [call]
    return None if "glm" in tools.off else parse_glm(body, tools)


TOOL_CALL_TAG = re.compile(r'<tool_call\b[^>]*?\bname="([^"]+)"[^>]*>')


def parse_tool_call_attrs(text: str, tools: Tools) -> list[CallItem] | None:
    """<tool_call id="call_00_xxx" name="NAME">{…}</tool_call>, the arguments alone in the body
    (DeepSeek V4 Pro, felinics/Memoh#435)."""
    tag = TOOL_CALL_TAG.match(text)
    if tag is None:
        return None
    body = text[tag.end():].strip()
    body = body[: -len("</tool_call>")] if body.endswith("</tool_call>") else body
    call = tools.call(tag.group(1), _arguments(body.strip()) if body.strip() else {})
    return None if call is None else [call]


def json_in(opener: str, closer: str, source: str) -> Parser:
    """A parser for JSON calls between `opener` and `closer`."""
    def parse(text: str, tools: Tools) -> list[CallItem] | None:
        return _json_text(_strip(text, opener, closer), tools)
    parse.__doc__ = f"{opener}{{…}}{closer}: {source}"
    return parse


def _strip(text: str, opener: str, closer: str) -> str:
    body = text[len(opener):] if text.startswith(opener) else text
    body = body.rstrip()
    return body[: -len(closer)] if body.endswith(closer) else body


_FUNCTION = re.compile(r"<function=([^>\s]+)\s*>(.*?)(?:</function>|(?=<function=)|\Z)", re.S)
_PARAM = re.compile(r"<parameter=([^>\s]+)\s*>(.*?)(?:</parameter>|(?=<parameter=)|(?=</function>)|\Z)", re.S)


def parse_qwen3_coder(text: str, tools: Tools) -> list[CallItem] | None:
    """<function=NAME><parameter=K>V</parameter></function>, also without the <tool_call> wrapper
    or the closing tags (Qwen3-Coder chat template; vLLM qwen3coder_tool_parser.py, which also
    keys on <function= alone; Seed-OSS writes the same inside <seed:tool_call>)."""
    text = text.strip()
    for opener, closer in (("<tool_call>", "</tool_call>"), ("<seed:tool_call>", "</seed:tool_call>")):
        text = _strip(text, opener, closer).strip()
    return _each(_FUNCTION, text, lambda fn: _qwen3_call(fn, tools))


def _qwen3_call(fn: re.Match[str], tools: Tools) -> CallItem | None:
    inner = fn.group(2).strip()
    if inner.startswith("{"):
        return tools.call(fn.group(1), obj(inner))
    params = _each(_PARAM, inner, lambda p: (p.group(1), _raw_value(p.group(2))), empty_ok=True)
    return None if params is None else tools.call(fn.group(1), dict(params))


def _raw_value(value: str) -> str:
    """A parameter written as raw text: the line breaks the template puts around it are not part of it."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value.strip(" ") if "\n" not in value else value


_ARG = re.compile(r"\s*<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)(?:</arg_value>|\Z)", re.S)


def parse_glm(text: str, tools: Tools) -> list[CallItem] | None:
    """<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>…</tool_call> (GLM-4.5+ chat
    template; vLLM glm4_moe_tool_parser.py). Also with the first <arg_key> dropped, so that the
    name and the key run together (NAMEkey</arg_key>, vllm#47190): only an offered name can split
    them; and with a stray </arg_value> after a name that takes no arguments
    (fw-ai-external/python-sdk#119)."""
    body = _strip(text, "<tool_call>", "</tool_call>").strip()
    calls: list[CallItem] = []
    for part in body.split("<tool_call>"):
        call = _glm_one(part.replace("</tool_call>", "").strip(), tools)
        if call is None:
            return None
        calls.append(call)
    return calls or None


def glm_name(name: str, tools: Tools) -> CallItem | None:
    """A structured call whose name holds GLM's markup: "tool_12</arg_value>" or
    "read<arg_key>filePath</arg_key><arg_value>…</arg_value>" (fw-ai-external/python-sdk#119,
    zai-org/GLM-5#84: a server's GLM parser that cut the name at the wrong tag)."""
    return _glm_one(name, tools) if "<" in name and tools.resolve(name) is None else None


def _glm_one(body: str, tools: Tools) -> CallItem | None:
    cut = body.find("<")
    name, rest = (body, "") if cut < 0 else (body[:cut].strip(), body[cut:])
    if rest.startswith("</arg_key>") or (rest.startswith("</arg_value>") and "<arg_key>" not in rest):
        if rest.startswith("</arg_value>"):
            rest = rest[len("</arg_value>"):]
        else:  # the first <arg_key> was dropped: the name is the longest offered name it begins with
            tool = tools.prefix(name)
            if tool is None or not name[len(tool):].strip():
                return None
            rest = "<arg_key>" + name[len(tool):].strip() + rest
            name = tool
    # raw text, as GLM's template writes it (no line breaks around it), typed by argcheck
    pairs = _each(_ARG, rest, lambda m: (m.group(1).strip(), m.group(2)), empty_ok=True)
    return None if pairs is None else tools.call(name, dict(pairs))


def parse_json(text: str, tools: Tools) -> list[CallItem] | None:
    """A bare JSON call naming an offered tool: {name, arguments|parameters} (Llama 3.x's JSON
    tool calls, vLLM llama_tool_parser.py; Qwen2.5-Coder and Granite without tags), arrays of them,
    OpenAI's {"tool_calls": […]} response shape, {"type": "function", "function": {…}}."""
    return _json_text(text, tools)


_FENCE_BODY = re.compile(r"\A```[^\n`]*\n(.*?)\n?\s*```\s*\Z", re.S)


def parse_fenced(text: str, tools: Tools) -> list[CallItem] | None:
    """A fenced block whose body is JSON naming an offered tool, whatever its language tag
    (models told to answer in a ```json block, TheBadFella/CatGPT#83; a fence that is data,
    ahwurm/localharness#105, names no offered tool and stays text)."""
    body = _FENCE_BODY.match(text)
    return _json_text(body.group(1), tools) if body else None


def parse_pythonic(text: str, tools: Tools) -> list[CallItem] | None:
    """[f(a=1, b="x"), g()] (vLLM pythonic_tool_parser.py and llama4_pythonic; LFM2's chat
    template writes the same list between <|tool_call_start|> and <|tool_call_end|>, vLLM
    lfm2_tool_parser.py)."""
    text = text.strip()
    for opener, closer in (("<|tool_call_start|>", "<|tool_call_end|>"), ("<|python_start|>", "<|python_end|>")):
        text = _strip(text, opener, closer).strip()
    if text[:1] in "{":
        return _json_text(text, tools)
    if not text.startswith("["):
        text = "[" + text + "]"
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.List) or not tree.elts:
        return None
    calls = []
    for node in tree.elts:
        if not isinstance(node, ast.Call) or node.args or not isinstance(node.func, (ast.Name, ast.Attribute)):
            return None
        name = ast.unparse(node.func)
        try:
            args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        except (ValueError, SyntaxError):
            return None
        if None in args:
            return None
        call = tools.call(name, args)
        if call is None:
            return None
        calls.append(call)
    return calls


def parse_python_tag(text: str, tools: Tools) -> list[CallItem] | None:
    """<|python_tag|>{"name": …, "parameters": …} (Llama 3.1 chat template; vLLM
    llama_tool_parser.py), several joined by ';'."""
    body = text[len("<|python_tag|>"):] if text.startswith("<|python_tag|>") else text
    for end in ("<|eom_id|>", "<|eot_id|>"):
        body = body.replace(end, "")
    return _json_text(body, tools)


_MISTRAL_NAMED = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(?:\[CALL_ID\]\s*\w+\s*)?(?:\[ARGS\])?\s*(?=\{)")


def parse_mistral(text: str, tools: Tools) -> list[CallItem] | None:
    """[TOOL_CALLS] then the v3 JSON list [{"name", "arguments"}], or, from tokenizer v11
    (Magistral, Devstral), NAME[ARGS]{…} per call (vLLM mistral_tool_parser.py; llama.cpp
    common/chat.cpp). Outputs whose every space came out as sentencepiece's ▁ are read with ▁ as
    a space."""
    text = text.replace("▁", " ").replace("</s>", "")
    calls = []
    for part in text.split("[TOOL_CALLS]"):
        part = part.strip()
        if not part:
            continue
        if part[0] in "[{":
            items = _json_text(part, tools)
        else:
            named = _MISTRAL_NAMED.match(part)
            if named is None:
                return None
            args = obj(part[named.end():])
            call = tools.call(named.group(1), args)
            items = None if call is None else [call]
        if items is None:
            return None
        calls += items
    return calls or None


_KIMI_CALL = re.compile(
    r"<\|tool_call_begin\|>\s*(?P<id>[^<]*?)\s*<\|tool_call_argument_begin\|>"
    r"(?P<args>.*?)(?:<\|tool_call_end\|>|(?=<\|tool_call_begin\|>)|\Z)", re.S)
_KIMI_MARKERS = re.compile(r"<\|tool_calls?_section_(?:begin|end)\|>")


def parse_kimi(text: str, tools: Tools) -> list[CallItem] | None:
    """<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>
    {…}<|tool_call_end|><|tool_calls_section_end|> (Kimi K2 chat template; vLLM
    kimi_k2_tool_parser.py, which takes the singular section tokens too). Also partial envelopes,
    a section end after each call, `NAME:i` without "functions.", and arguments written as a
    quoted JSON string (MoonshotAI/Kimi-K2#26)."""
    return _each(_KIMI_CALL, _KIMI_MARKERS.sub("", text), lambda m: tools.call(
        re.sub(r"\A(?:functions\.)?(.*?)(?::\d+)?\Z", r"\1", m.group("id").strip()), _arguments(m.group("args").strip())))


_DS_CALL = re.compile(
    r"<[｜|]tool▁call▁begin[｜|]>\s*(?:(?P<type>function)\s*<[｜|]tool▁sep[｜|]>\s*(?P<name>[^\n<]+?)\s*\n\s*```(?:json)?\s*(?P<fenced>.*?)\s*```"
    r"|(?P<name31>[^<]+?)\s*<[｜|]tool▁sep[｜|]>(?P<args31>.*?))\s*(?:<[｜|]tool▁call▁end[｜|]>|\Z)", re.S)
_DS_MARKERS = re.compile(r"<[｜|]tool▁calls▁(?:begin|end)[｜|]>|<[｜|]end▁of▁sentence[｜|]>")


def parse_deepseek(text: str, tools: Tools) -> list[CallItem] | None:
    """DeepSeek V3/R1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
    ```json {…}```<｜tool▁call▁end｜><｜tool▁calls▁end｜> (vLLM deepseekv3_tool_parser.py), and
    V3.1's NAME<｜tool▁sep｜>{…} (deepseekv31_tool_parser.py). Some servers print the bars as ASCII."""
    return _each(_DS_CALL, _DS_MARKERS.sub("", text), lambda m: tools.call(m.group("name"), obj(m.group("fenced")))
                 if m.group("type") else tools.call(m.group("name31"), _arguments(m.group("args31").strip())))


_INVOKE = re.compile(r"<invoke\s+name=\"([^\"]+)\"\s*>(.*?)(?:</invoke>|(?=<invoke\s)|\Z)", re.S)
_PARAMETER = re.compile(r"<parameter\s+name=\"([^\"]+)\"(?:\s+string=\"(true|false)\")?\s*>"
                        r"(.*?)(?:</parameter>|(?=<parameter\s)|(?=</invoke>)|\Z)", re.S)


_DSML = re.compile(r"｜DSML｜")
_BARE_OPEN = re.compile(r"(?<![<\w])(invoke|parameter) name=")
_BARE_CLOSE = re.compile(r"(?<![</])(parameter|invoke)>")


def parse_invoke(text: str, tools: Tools) -> list[CallItem] | None:
    """<invoke name="NAME"><parameter name="K" string="true">V</parameter></invoke>: DeepSeek
    V3.2's DSML (its encoding/ docs; vLLM deepseekv32_tool_parser.py), also with the ｜DSML｜
    prefixes stripped, as <function_calls><invoke>, and MiniMax M2's <minimax:tool_call> (MiniMax
    M2 chat template; vLLM minimax_m2_tool_parser.py), whose tags also come misordered or
    misspelled: a parameter runs to its closing tag, the next parameter or the invoke's end, and
    tags whose every "<" and "</" was dropped are read as the tags they were."""
    body = re.sub(r"</?(?:function_calls|tool_calls|minimax:tool_call)>?", "", _DSML.sub("", text))
    if body.lstrip().startswith("invoke name="):  # every "<" and "</" dropped (exo-explore/exo#1882)
        body = _BARE_CLOSE.sub(r"</\1>", _BARE_OPEN.sub(r"<\1 name=", body))
    return _each(_INVOKE, body, lambda m: _invoke_call(m, tools))


def _invoke_call(m: re.Match[str], tools: Tools) -> CallItem | None:
    params = _each(_PARAMETER, m.group(2), _invoke_parameter, empty_ok=True)
    return None if params is None else tools.call(m.group(1), dict(params))


def _invoke_parameter(p: re.Match[str]) -> tuple[str, object]:
    value = _raw_value(p.group(3))
    if p.group(2) == "false":  # DSML marks values that are not strings: they are JSON
        parsed = obj(value)
        if parsed is not None:
            return p.group(1), parsed
    return p.group(1), value


HARMONY_HEAD = re.compile(
    r"(?:<\|start\|>)?\s*(?:assistant)?\s*(?:to=(?P<to1>[^<]+?))?\s*(?:<\|channel\|>)?\s*(?P<channel>analysis|commentary|final)"
    r"(?:\s+to=(?P<to2>[^<]*?))?\s*(?:<\|constrain\|>\s*\w*)?\s*(?:json)?\s*<\|message\|>", re.S)
_HARMONY_END = re.compile(r"<\|(?:end|call|return)\|>\s*\Z")


def parse_harmony(text: str, tools: Tools) -> list[Item] | None:
    """gpt-oss's harmony messages (openai/harmony's format docs; vLLM openai_tool_parser.py,
    llama.cpp common/chat.cpp): a commentary message to=functions.NAME is a call, its JSON
    arguments ending at <|call|> or with the text; an analysis message is reasoning, a final one
    the answer. Also with <|call|> missing, a space in the name (only an offered name fits),
    "json" glued to the name, and a closing brace missing (repaired as arguments are)."""
    head = HARMONY_HEAD.match(text)
    if head is None:
        return None
    body = _HARMONY_END.sub("", text[head.end():])
    to = (head.group("to1") or head.group("to2") or "").strip()
    if not to:
        if head.group("channel") == "analysis":
            return [("think", body)]
        return [("text", body)] if body else []
    name = to[len("functions."):] if to.startswith("functions.") else to
    tool = tools.resolve(name) or tools.resolve(name.replace(" ", "")) or tools.resolve(name.replace(" ", "_"))
    if tool is None and name.endswith("json"):
        tool = tools.resolve(name[:-4].strip())
    call = tools.call(tool, _arguments(body.strip()) if body.strip() else {})
    return None if call is None else [call]


_ARROW_TOOL = re.compile(r'\{\s*tool\s*=>\s*"([^"]+)"\s*,\s*args\s*=>\s*\{(.*)\}\s*\}\s*\Z', re.S)
_ARROW_ARG = re.compile(r'--([\w\-]+)\s+("(?:[^"\\]|\\.)*"|[^\s]+)', re.S)


def parse_tool_call_brackets(text: str, tools: Tools) -> list[CallItem] | None:
    """[TOOL_CALL] {"tool": NAME, "args": {…}} [/TOOL_CALL], and its {tool => "NAME", args =>
    {--key "value"}} spelling, both seen from MiniMax-M2 served without its parser
    (lmstudio-bug-tracker#1177)."""
    body = _strip(text.strip(), "[TOOL_CALL]", "[/TOOL_CALL]").strip()
    arrow = _ARROW_TOOL.match(body)
    if arrow:
        args = {m.group(1): _arrow_value(m.group(2)) for m in _ARROW_ARG.finditer(arrow.group(2))}
        call = tools.call(arrow.group(1), args)
        return None if call is None else [call]
    return _json_text(body, tools)


def _arrow_value(value: str) -> str:
    """A value of the arrow spelling: a quoted one as JSON reads it, or as written where it holds
    an escape JSON does not know (a regular expression's \\d, a Windows path)."""
    if not value.startswith('"'):
        return value
    try:
        text: str = json.loads(value)  # the pattern matched one JSON string's shape
    except ValueError:
        return value[1:-1]
    return text


_GEMMA_CALL = re.compile(r"call:([A-Za-z_][\w.\-]*)\s*([{(])(.*)[})]\s*\Z", re.S)
_GEMMA_STRING = re.compile(r'<\|"\|>(.*?)<\|"\|>', re.S)


def parse_gemma(text: str, tools: Tools) -> list[CallItem] | None:
    """<|tool_call>call:NAME{key:<|"|>value<|"|>,n:3}<tool_call|> (Gemma 4 chat template, whose
    <|"|> token quotes strings; vLLM gemma4_tool_parser.py). Keys are bare, as in the template's
    format_argument macro; plain double quotes and the call(key: value) spelling occur too."""
    calls = []
    for part in text.split("<|tool_call>"):
        part = part.replace("<tool_call|>", "").strip()
        if not part:
            continue
        m = _GEMMA_CALL.match(part)
        if m is None:
            return None
        inner = _GEMMA_STRING.sub(lambda s: json.dumps(s.group(1)), m.group(3))
        args = obj("{" + inner + "}")
        call = tools.call(m.group(1), args)
        if call is None:
            return None
        calls.append(call)
    return calls or None
