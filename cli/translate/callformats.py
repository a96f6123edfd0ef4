"""The ways open models write a tool call into the text of their answer, one parser each.

Each format names the markers that open it, how the scanner (textcalls.py) tells an opening in
prose from a call (`decide`), where a call ends, and how its text becomes calls (`parse`). A
parser returns the items its text holds: ("call", name, args), and for gpt-oss harmony also
("think", text) and ("text", text); or None when its text is not unambiguously calls, which then
stay text. Only names the request offers become calls, and their arguments pass argcheck.check.

Every format cites where its grammar comes from: the model's chat template, or the parser of the
project that serves it (vLLM's vllm/tool_parsers, llama.cpp's common/chat.cpp and
common/chat-parser.cpp, SGLang's python/sglang/srt/function_call). Checked 2026-12-02.
"""

import ast
import json
import re

from freeclaude.providers import TEXT_CALL_FORMATS
from freeclaude.translate.argcheck import check
from freeclaude.translate.jsonrepair import Args

# What the text after a marker says about it.
CALL, UNDECIDED, PROSE = "call", "undecided", "prose"

_WS = re.compile(r"\s*")
_IDENT = re.compile(r"[A-Za-z_][\w.\-]*")


class Tools:
    """The offered tools: name -> input schema, and the lookups the parsers share."""

    __slots__ = ("schemas", "_folded", "names", "off")

    def __init__(self, schemas: dict[str, dict], off: frozenset = frozenset()) -> None:
        self.schemas = schemas
        self.off = off  # formats a quirk turned off
        self.names = sorted(schemas, key=len, reverse=True)  # longest first: prefixes resolve to the longest
        folded: dict[str, list[str]] = {}
        for name in schemas:
            folded.setdefault(name.lower(), []).append(name)
        self._folded = folded

    def resolve(self, name) -> str | None:
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

    def call(self, name, args) -> tuple | None:
        tool = self.resolve(name)
        if tool is None:
            return None
        args = check(args, self.schemas[tool])
        return None if args is None else ("call", tool, args)


def obj(text: str):
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


def _arguments(value):
    """Arguments as written: an object, or a JSON string holding one (encoded once or twice)."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        value = obj(value)
    return value


def _json_calls(value, tools: Tools) -> list | None:
    """Calls from the JSON shapes models write: {name, arguments|parameters}, an array of them,
    {"tool_calls": [...]}, {"type": "function", "function": {...}}, {"tool": …, "args": …}."""
    if isinstance(value, list):
        items = [_json_calls(v, tools) for v in value]
        return None if not items or any(i is None for i in items) else [c for i in items for c in i]
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


def _json_text(text: str, tools: Tools) -> list | None:
    """One JSON value, or several written one after another (';' or newlines between them)."""
    text = text.strip()
    value = obj(text)
    if value is not None:
        return _json_calls(value, tools)
    parts = _split_json(text)
    if len(parts) < 2:
        return None
    items = [_json_text(p, tools) for p in parts]
    return None if any(i is None for i in items) else [c for i in items for c in i]


def _split_json(text: str) -> list[str]:
    """Top-level JSON objects or arrays written one after another."""
    parts, depth, start, quote, escape = [], 0, None, "", False
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


# ---------------------------------------------------------------- Hermes / Qwen and its variants


def _after(buf: str, i: int) -> int:
    return _WS.match(buf, i).end()


def begins(buf: str, i: int, word: str) -> bool | None:
    """Whether `buf` has `word` at `i`; None while what is there is too short to tell."""
    if len(buf) - i >= len(word):
        return buf.startswith(word, i)
    return None if word.startswith(buf[i:]) else False


def _decide_json_after(marker: str):
    """A marker that a JSON object follows (Hermes <tool_call>, <function_call>, <tools>, LM Studio)."""
    def decide(buf: str, i: int, tools: Tools) -> str:
        head = _after(buf, i + len(marker))
        if head == len(buf):
            return UNDECIDED
        return CALL if buf[head] in "{[" else PROSE
    return decide


def _decide_tool_call(buf: str, i: int, tools: Tools) -> str:
    """<tool_call> opens Hermes JSON, Qwen3-Coder XML, <function>NAME</function> JSON, or GLM."""
    head = _after(buf, i + len("<tool_call>"))
    if head == len(buf):
        return UNDECIDED
    if buf[head] in "{[":
        return CALL
    for inner in ("<function=", "<function>"):
        verdict = begins(buf, head, inner)
        if verdict is None:
            return UNDECIDED
        if verdict:
            return CALL
    return _decide_name(buf, head, tools)


def _decide_name(buf: str, head: int, tools: Tools) -> str:
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


_FUNCTION_TAG = re.compile(r"\s*<function>\s*([^<\s]+)\s*</function>\s*(.*)\Z", re.S)


def parse_tool_call(text: str, tools: Tools) -> list | None:
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


_TAG_NAME = re.compile(r'<tool_call\b[^>]*?\bname="([^"]+)"[^>]*>')


def _decide_tool_call_attrs(buf: str, i: int, tools: Tools) -> str:
    """<tool_call id="…" name="NAME"> then JSON arguments (DeepSeek V4 Pro, felinics/Memoh#435)."""
    end = buf.find(">", i)
    if end < 0:
        return UNDECIDED if len(buf) - i < 160 else PROSE
    tag = _TAG_NAME.match(buf, i)
    return CALL if tag and tag.end() == end + 1 and tools.resolve(tag.group(1)) else PROSE


def parse_tool_call_attrs(text: str, tools: Tools) -> list | None:
    """<tool_call id="call_00_xxx" name="NAME">{…}</tool_call>, the arguments alone in the body
    (DeepSeek V4 Pro, felinics/Memoh#435)."""
    tag = _TAG_NAME.match(text)
    if tag is None:
        return None
    body = text[tag.end():].strip()
    body = body[: -len("</tool_call>")] if body.endswith("</tool_call>") else body
    call = tools.call(tag.group(1), _arguments(body.strip()) if body.strip() else {})
    return None if call is None else [call]


def _json_in(opener: str, closer: str, source: str):
    """A parser for JSON calls between `opener` and `closer`."""
    def parse(text: str, tools: Tools) -> list | None:
        return _json_text(_strip(text, opener, closer), tools)
    parse.__doc__ = f"{opener}{{…}}{closer}: {source}"
    return parse


def _strip(text: str, opener: str, closer: str) -> str:
    body = text[len(opener):] if text.startswith(opener) else text
    body = body.rstrip()
    return body[: -len(closer)] if body.endswith(closer) else body


# ---------------------------------------------------------------- Qwen3-Coder XML, Seed


_FUNCTION = re.compile(r"<function=([^>\s]+)\s*>(.*?)(?:</function>|(?=<function=)|\Z)", re.S)
_PARAM = re.compile(r"<parameter=([^>\s]+)\s*>(.*?)(?:</parameter>|(?=<parameter=)|(?=</function>)|\Z)", re.S)


def _decide_function_eq(buf: str, i: int, tools: Tools) -> str:
    """<function=NAME> followed by <parameter=…>, </function> or a JSON object (Llama 3.1's
    <function=NAME>{…}</function> in its chat template)."""
    name_end = i + len("<function=")
    while name_end < len(buf) and buf[name_end] not in "<>\n ":
        name_end += 1
    if name_end == len(buf):
        return UNDECIDED if name_end - i < 80 else PROSE
    if buf[name_end] != ">" or not tools.resolve(buf[i + len("<function="):name_end]):
        return PROSE
    head = _after(buf, name_end + 1)
    if head == len(buf):
        return UNDECIDED
    if buf[head] == "{":
        return CALL
    for word in ("<parameter=", "</function>"):
        verdict = begins(buf, head, word)
        if verdict is None:
            return UNDECIDED
        if verdict:
            return CALL
    return PROSE


def parse_qwen3_coder(text: str, tools: Tools) -> list | None:
    """<function=NAME><parameter=K>V</parameter></function>, also without the <tool_call> wrapper
    or the closing tags (Qwen3-Coder chat template; vLLM qwen3coder_tool_parser.py, which also
    keys on <function= alone; Seed-OSS writes the same inside <seed:tool_call>)."""
    text = text.strip()
    for opener, closer in (("<tool_call>", "</tool_call>"), ("<seed:tool_call>", "</seed:tool_call>")):
        text = _strip(text, opener, closer).strip()
    calls = []
    pos = 0
    for fn in _FUNCTION.finditer(text):
        if text[pos:fn.start()].strip():
            return None
        pos = fn.end()
        inner = fn.group(2).strip()
        if inner.startswith("{"):
            args = obj(inner)
        else:
            args, at = {}, 0
            for p in _PARAM.finditer(inner):
                if inner[at:p.start()].strip():
                    return None
                args[p.group(1)] = _raw_value(p.group(2))
                at = p.end()
            if inner[at:].strip():
                return None
        call = tools.call(fn.group(1), args)
        if call is None:
            return None
        calls.append(call)
    if not calls or text[pos:].strip():
        return None
    return calls


def _raw_value(value: str) -> str:
    """A parameter written as raw text: the line breaks the template puts around it are not part of it."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value.strip(" ") if "\n" not in value else value


# ---------------------------------------------------------------- GLM


_ARG = re.compile(r"\s*<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)(?:</arg_value>|\Z)", re.S)


def parse_glm(text: str, tools: Tools) -> list | None:
    """<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>…</tool_call> (GLM-4.5+ chat
    template; vLLM glm4_moe_tool_parser.py). Also with the first <arg_key> dropped, so that the
    name and the key run together (NAMEkey</arg_key>, vllm#47190): only an offered name can split
    them; and with a stray </arg_value> after a name that takes no arguments
    (fw-ai-external/python-sdk#119)."""
    body = _strip(text, "<tool_call>", "</tool_call>").strip()
    calls = []
    for part in body.split("<tool_call>"):
        call = _glm_one(part.replace("</tool_call>", "").strip(), tools)
        if call is None:
            return None
        calls.append(call)
    return calls or None


def glm_name(name: str, tools: Tools) -> tuple | None:
    """A structured call whose name holds GLM's markup: "tool_12</arg_value>" or
    "read<arg_key>filePath</arg_key><arg_value>…</arg_value>" (fw-ai-external/python-sdk#119,
    zai-org/GLM-5#84: a server's GLM parser that cut the name at the wrong tag)."""
    return _glm_one(name, tools) if "<" in name and tools.resolve(name) is None else None


def _glm_one(body: str, tools: Tools) -> tuple | None:
    cut = body.find("<")
    name, rest = (body, "") if cut < 0 else (body[:cut].strip(), body[cut:])
    args = {}
    if rest.startswith("</arg_key>") or (rest.startswith("</arg_value>") and "<arg_key>" not in rest):
        if rest.startswith("</arg_value>"):
            rest = rest[len("</arg_value>"):]
        else:  # the first <arg_key> was dropped: the name is the longest offered name it begins with
            tool = tools.prefix(name)
            if tool is None or not name[len(tool):].strip():
                return None
            rest = "<arg_key>" + name[len(tool):].strip() + rest
            name = tool
    pos = 0
    for m in _ARG.finditer(rest):
        if rest[pos:m.start()].strip():
            return None
        args[m.group(1).strip()] = m.group(2).strip("\n")  # raw text, typed by argcheck
        pos = m.end()
    if rest[pos:].strip():
        return None
    return tools.call(name, args)


# ---------------------------------------------------------------- bare JSON and fenced JSON


_FIRST_KEY = re.compile(r'\{\s*"([A-Za-z_]+)"\s*:\s*')
_CALL_KEYS = ("name", "tool_calls", "type", "function", "arguments", "parameters", "tool", "tool_name")


def decide_json(buf: str, i: int, tools: Tools) -> str:
    """A JSON object or array at the start of a line: a call only if it names an offered tool."""
    if buf[i] == "[":
        head = _after(buf, i + 1)
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


def parse_json(text: str, tools: Tools) -> list | None:
    """A bare JSON call naming an offered tool: {name, arguments|parameters} (Llama 3.x's JSON
    tool calls, vLLM llama_tool_parser.py; Qwen2.5-Coder and Granite without tags), arrays of them,
    OpenAI's {"tool_calls": […]} response shape, {"type": "function", "function": {…}}."""
    return _json_text(text, tools)


_FENCE_BODY = re.compile(r"\A```[^\n`]*\n(.*?)\n?\s*```\s*\Z", re.S)


def parse_fenced(text: str, tools: Tools) -> list | None:
    """A fenced block whose body is JSON naming an offered tool, whatever its language tag
    (models told to answer in a ```json block, TheBadFella/CatGPT#83; a fence that is data,
    ahwurm/localharness#105, names no offered tool and stays text)."""
    body = _FENCE_BODY.match(text)
    return _json_text(body.group(1), tools) if body else None


# ---------------------------------------------------------------- pythonic lists (Llama 3.2/4, LFM2)




def _decide_pythonic(buf: str, i: int, tools: Tools) -> str:
    if buf[i] != "[":
        return PROSE
    head = _after(buf, i + 1)
    end = head
    while end < len(buf) and (buf[end].isalnum() or buf[end] in "_.-"):
        end += 1
    if end == len(buf):
        return UNDECIDED if tools.may_begin(buf[head:end]) or head == end else PROSE
    if buf[end] != "(" or not tools.resolve(buf[head:end]):
        return PROSE
    return CALL


def parse_pythonic(text: str, tools: Tools) -> list | None:
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


# ---------------------------------------------------------------- Llama's special tokens


def parse_python_tag(text: str, tools: Tools) -> list | None:
    """<|python_tag|>{"name": …, "parameters": …} (Llama 3.1 chat template; vLLM
    llama_tool_parser.py), several joined by ';'."""
    body = text[len("<|python_tag|>"):] if text.startswith("<|python_tag|>") else text
    for end in ("<|eom_id|>", "<|eot_id|>"):
        body = body.replace(end, "")
    return _json_text(body, tools)


# ---------------------------------------------------------------- Mistral / Devstral


_MISTRAL_NAMED = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(?:\[CALL_ID\]\s*\w+\s*)?(?:\[ARGS\])?\s*(?=\{)")


def decide_mistral(buf: str, i: int, tools: Tools) -> str:
    head = _after(buf, i + len("[TOOL_CALLS]"))
    while head < len(buf) and buf[head] == "▁":
        head += 1
    if head == len(buf):
        return UNDECIDED
    if buf[head] in "[{":
        return CALL
    return _decide_name(buf, head, tools)


def parse_mistral(text: str, tools: Tools) -> list | None:
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


# ---------------------------------------------------------------- Kimi K2


_KIMI_CALL = re.compile(
    r"<\|tool_call_begin\|>\s*(?P<id>[^<]*?)\s*<\|tool_call_argument_begin\|>(?P<args>.*?)(?:<\|tool_call_end\|>|(?=<\|tool_call_begin\|>)|\Z)", re.S)
_KIMI_MARKERS = re.compile(r"<\|tool_calls?_section_(?:begin|end)\|>")


def _decide_after(inner: tuple, decide_name):
    """Markers (a section's, then a call's) that must be followed by a call naming an offered tool."""
    def decide(buf: str, i: int, tools: Tools) -> str:
        head = buf.find(">", i) + 1
        for marker in inner:
            head = _after(buf, head)
            verdict = begins(buf, head, marker)
            if verdict is None:
                return UNDECIDED
            if verdict:
                head += len(marker)
        return decide_name(buf, _after(buf, head), tools)
    return decide


_KIMI_ID = re.compile(r"(?:functions\.)?([^\s<:]+)(?::\d+)?\s*<\|tool_call_argument_begin\|>")


def _decide_kimi_name(buf: str, head: int, tools: Tools) -> str:
    """functions.NAME:0 (or NAME:0) up to the argument marker; undecided until it comes (the
    scanner bounds how long)."""
    m = _KIMI_ID.match(buf, head)
    if m is None:
        return UNDECIDED
    return CALL if tools.resolve(m.group(1)) else PROSE


_DS_V3_NAME = re.compile(r"function\s*<[｜|]tool▁sep[｜|]>\s*([^\n<]*)(\n)?")
_DS_V31_NAME = re.compile(r"([^<\n]+?)\s*<[｜|]tool▁sep[｜|]>")


def _decide_ds_name(buf: str, head: int, tools: Tools) -> str:
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


def parse_kimi(text: str, tools: Tools) -> list | None:
    """<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>
    {…}<|tool_call_end|><|tool_calls_section_end|> (Kimi K2 chat template; vLLM
    kimi_k2_tool_parser.py, which takes the singular section tokens too). Also partial envelopes,
    a section end after each call, `NAME:i` without "functions.", and arguments written as a
    quoted JSON string (MoonshotAI/Kimi-K2#26)."""
    body = _KIMI_MARKERS.sub("", text)
    calls, pos = [], 0
    for m in _KIMI_CALL.finditer(body):
        if body[pos:m.start()].strip():
            return None
        pos = m.end()
        ident = m.group("id").strip()
        name = re.sub(r":\d+\Z", "", ident)
        if name.startswith("functions."):
            name = name[len("functions."):]
        call = tools.call(name, _arguments(m.group("args").strip()))
        if call is None:
            return None
        calls.append(call)
    return calls if calls and not body[pos:].strip() else None


# ---------------------------------------------------------------- DeepSeek V3 / V3.1, V3.2 DSML


_DS_CALL = re.compile(
    r"<[｜|]tool▁call▁begin[｜|]>\s*(?:(?P<type>function)\s*<[｜|]tool▁sep[｜|]>\s*(?P<name>[^\n<]+?)\s*\n\s*```(?:json)?\s*(?P<fenced>.*?)\s*```"
    r"|(?P<name31>[^<]+?)\s*<[｜|]tool▁sep[｜|]>(?P<args31>.*?))\s*(?:<[｜|]tool▁call▁end[｜|]>|\Z)", re.S)
_DS_MARKERS = re.compile(r"<[｜|]tool▁calls▁(?:begin|end)[｜|]>|<[｜|]end▁of▁sentence[｜|]>")


def parse_deepseek(text: str, tools: Tools) -> list | None:
    """DeepSeek V3/R1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
    ```json {…}```<｜tool▁call▁end｜><｜tool▁calls▁end｜> (vLLM deepseekv3_tool_parser.py), and
    V3.1's NAME<｜tool▁sep｜>{…} (deepseekv31_tool_parser.py). Some servers print the bars as ASCII."""
    body = _DS_MARKERS.sub("", text)
    calls, pos = [], 0
    for m in _DS_CALL.finditer(body):
        if body[pos:m.start()].strip():
            return None
        pos = m.end()
        if m.group("type"):
            name, args = m.group("name"), obj(m.group("fenced"))
        else:
            name, args = m.group("name31"), _arguments(m.group("args31").strip())
        call = tools.call(name, args)
        if call is None:
            return None
        calls.append(call)
    return calls if calls and not body[pos:].strip() else None


_INVOKE = re.compile(r"<invoke\s+name=\"([^\"]+)\"\s*>(.*?)(?:</invoke>|(?=<invoke\s)|\Z)", re.S)
_PARAMETER = re.compile(r"<parameter\s+name=\"([^\"]+)\"(?:\s+string=\"(true|false)\")?\s*>(.*?)(?:</parameter>|(?=<parameter\s)|(?=</invoke>)|\Z)", re.S)
_DSML = re.compile(r"｜DSML｜")


def parse_invoke(text: str, tools: Tools) -> list | None:
    """<invoke name="NAME"><parameter name="K" string="true">V</parameter></invoke>: DeepSeek
    V3.2's DSML (its encoding/ docs; vLLM deepseekv32_tool_parser.py), also with the ｜DSML｜
    prefixes stripped, as <function_calls><invoke>, and MiniMax M2's <minimax:tool_call> (MiniMax
    M2 chat template; vLLM minimax_m2_tool_parser.py), whose tags also come misordered or
    misspelled: a parameter runs to its closing tag, the next parameter or the invoke's end."""
    body = _DSML.sub("", text)
    body = re.sub(r"</?(?:function_calls|tool_calls|minimax:tool_call)>?", "", body)
    calls, pos = [], 0
    for m in _INVOKE.finditer(body):
        if body[pos:m.start()].strip():
            return None
        pos = m.end()
        args, at = {}, 0
        inner = m.group(2)
        for p in _PARAMETER.finditer(inner):
            if inner[at:p.start()].strip():
                return None
            at = p.end()
            value = _raw_value(p.group(3))
            if p.group(2) == "false":  # DSML marks values that are not strings: they are JSON
                parsed = obj(value)
                value = value if parsed is None else parsed
            args[p.group(1)] = value
        if inner[at:].strip():
            return None
        call = tools.call(m.group(1), args)
        if call is None:
            return None
        calls.append(call)
    return calls if calls and not body[pos:].strip() else None


def _decide_invoke_block(marker: str):
    """A wrapper (its '>' may be missing, opencode#24566) that an <invoke name="…"> follows."""
    def decide(buf: str, i: int, tools: Tools) -> str:
        head = i + len(marker)
        if head < len(buf) and buf[head] == ">":
            head += 1
        head = _after(buf, head)
        if head == len(buf):
            return UNDECIDED
        verdicts = [begins(buf, head, word) for word in ("<｜DSML｜invoke", "<invoke")]
        if True in verdicts:
            return _decide_invoke(buf, head, tools, len(("<｜DSML｜invoke", "<invoke")[verdicts.index(True)]))
        return UNDECIDED if None in verdicts else PROSE
    return decide


def _decide_invoke(buf: str, i: int, tools: Tools, skip: int = len("<invoke")) -> str:
    head = _after(buf, i + skip)
    verdict = begins(buf, head, 'name="')
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    start = head + len('name="')
    close = buf.find('"', start)
    if close < 0:
        return UNDECIDED if tools.may_begin(buf[start:]) else PROSE
    return CALL if tools.resolve(buf[start:close]) else PROSE


# ---------------------------------------------------------------- gpt-oss harmony


_HARMONY_HEAD = re.compile(
    r"(?:<\|start\|>)?\s*(?:assistant)?\s*(?:to=(?P<to1>[^<]+?))?\s*(?:<\|channel\|>)?\s*(?P<channel>analysis|commentary|final)"
    r"(?:\s+to=(?P<to2>[^<]*?))?\s*(?:<\|constrain\|>\s*\w*)?\s*(?:json)?\s*<\|message\|>", re.S)
_HARMONY_END = re.compile(r"<\|(?:end|call|return)\|>\s*\Z")


def decide_harmony(buf: str, i: int, tools: Tools) -> str:
    """A harmony message header, up to its <|message|>."""
    end = buf.find("<|message|>", i)
    if end < 0:
        return UNDECIDED if len(buf) - i < 160 else PROSE
    return CALL if _HARMONY_HEAD.match(buf, i) else PROSE


def parse_harmony(text: str, tools: Tools) -> list | None:
    """gpt-oss's harmony messages (openai/harmony's format docs; vLLM openai_tool_parser.py,
    llama.cpp common/chat.cpp): a commentary message to=functions.NAME is a call, its JSON
    arguments ending at <|call|> or with the text; an analysis message is reasoning, a final one
    the answer. Also with <|call|> missing, a space in the name (only an offered name fits),
    "json" glued to the name, and a closing brace missing (repaired as arguments are)."""
    head = _HARMONY_HEAD.match(text)
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


# ---------------------------------------------------------------- MiniMax's [TOOL_CALL] variant


_ARROW_TOOL = re.compile(r'\{\s*tool\s*=>\s*"([^"]+)"\s*,\s*args\s*=>\s*\{(.*)\}\s*\}\s*\Z', re.S)
_ARROW_ARG = re.compile(r'--([\w\-]+)\s+("(?:[^"\\]|\\.)*"|[^\s]+)', re.S)


def parse_tool_call_brackets(text: str, tools: Tools) -> list | None:
    """[TOOL_CALL] {"tool": NAME, "args": {…}} [/TOOL_CALL], and its {tool => "NAME", args =>
    {--key "value"}} spelling, both seen from MiniMax-M2 served without its parser
    (lmstudio-bug-tracker#1177)."""
    body = _strip(text.strip(), "[TOOL_CALL]", "[/TOOL_CALL]").strip()
    arrow = _ARROW_TOOL.match(body)
    if arrow:
        args = {}
        for m in _ARROW_ARG.finditer(arrow.group(2)):
            value = m.group(2)
            args[m.group(1)] = json.loads(value) if value.startswith('"') else value
        call = tools.call(arrow.group(1), args)
        return None if call is None else [call]
    return _json_text(body, tools)


# ---------------------------------------------------------------- Gemma 4


_GEMMA_CALL = re.compile(r"call:([A-Za-z_][\w.\-]*)\s*([{(])(.*)[})]\s*\Z", re.S)
_GEMMA_STRING = re.compile(r'<\|"\|>(.*?)<\|"\|>', re.S)


def parse_gemma(text: str, tools: Tools) -> list | None:
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


def decide_gemma(buf: str, i: int, tools: Tools) -> str:
    head = _after(buf, i + len("<|tool_call>"))
    verdict = begins(buf, head, "call:")
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    return _decide_name(buf, head + len("call:"), tools)


# ---------------------------------------------------------------- the registry


class Format:
    """How one format is found in a stream and read."""

    __slots__ = ("name", "marker", "decide", "parse", "ends", "stops", "balanced", "strays", "head_end", "closers", "keep")

    def __init__(self, name, marker, decide, parse, ends=(), stops=(), balanced=False, strays=(), head_end=""):
        self.name = name  # the family a quirk turns off (TEXT_CALL_FORMATS)
        self.marker = marker  # the literal text that opens it
        self.decide = decide  # (buf, i, tools) -> CALL | UNDECIDED | PROSE
        self.parse = parse  # (text, tools) -> items | None
        self.ends = ends  # markers that end it, part of it
        self.stops = stops  # markers that end it, part of what follows
        self.balanced = balanced  # it ends where its first JSON value or list closes
        self.strays = strays  # closing markers to drop when they follow it (a wrapper half-written)
        self.head_end = head_end  # its end markers count only after this (a header that may hold them)
        self.closers = ends + stops
        self.keep = max(map(len, self.closers), default=1) - 1  # characters that may begin a split closer


def _decide_seed(buf: str, i: int, tools: Tools) -> str:
    head = _after(buf, i + len("<seed:tool_call>"))
    verdict = begins(buf, head, "<function=")
    if not verdict:
        return UNDECIDED if verdict is None else PROSE
    return _decide_function_eq(buf, head, tools)


def _decide_python_start(buf: str, i: int, tools: Tools) -> str:
    head = _after(buf, i + len("<|python_start|>"))
    if head == len(buf):
        return UNDECIDED
    if buf[head] == "{":
        return decide_json(buf, head, tools)
    return _decide_pythonic(buf, head, tools) if buf[head] == "[" else PROSE


def _decide_lfm2(buf: str, i: int, tools: Tools) -> str:
    head = _after(buf, i + len("<|tool_call_start|>"))
    if head == len(buf):
        return UNDECIDED
    return _decide_pythonic(buf, head, tools) if buf[head] == "[" else decide_json(buf, head, tools) if buf[head] == "{" else PROSE


_KIMI_STRAYS = ("<|tool_calls_section_end|>", "<|tool_call_section_end|>")
_KIMI_SECTION = _decide_after(("<|tool_call_begin|>",), _decide_kimi_name)
_HARMONY_ENDS, _HARMONY_STOPS = ("<|call|>", "<|end|>", "<|return|>"), ("<|start|>", "<|channel|>")
_DS_BEGIN, _DS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
_DS_STRAYS = ("<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>")
_DSML_STRAYS = ("</｜DSML｜function_calls>", "</｜DSML｜tool_calls>")

FORMATS = (
    Format("hermes", "<tool_call>", _decide_tool_call, parse_tool_call, ends=("</tool_call>",)),
    Format("hermes", "<tool_call ", _decide_tool_call_attrs, parse_tool_call_attrs, ends=("</tool_call>",)),
    Format("hermes", "<function_call>", _decide_json_after("<function_call>"), _json_in("<function_call>", "</function_call>",
           "the tag Qwen2.5 was trained with before <tool_call> (thinking-machines-lab/tinker-cookbook#58)"), ends=("</function_call>",)),
    Format("hermes", "<tools>", _decide_json_after("<tools>"), _json_in("<tools>", "</tools>",
           "Hermes 2 Pro's tool tags (NousResearch/Hermes-Function-Calling#17)"), ends=("</tools>",)),
    Format("qwen3_coder", "<function=", _decide_function_eq, parse_qwen3_coder, ends=("</function>",), strays=("</tool_call>",)),
    Format("seed", "<seed:tool_call>", _decide_seed, parse_qwen3_coder, ends=("</seed:tool_call>",)),
    Format("lmstudio", "[TOOL_REQUEST]", _decide_json_after("[TOOL_REQUEST]"), _json_in("[TOOL_REQUEST]", "[END_TOOL_REQUEST]",
           "LM Studio's default tool-use prompt for models without a template of their own (its tool-use docs; lmstudio-ai/mlx-engine#97)"),
           ends=("[END_TOOL_REQUEST]",)),
    Format("mistral", "[TOOL_CALLS]", decide_mistral, parse_mistral, ends=("</s>",)),
    Format("llama", "<|python_tag|>", _decide_json_after("<|python_tag|>"), parse_python_tag, ends=("<|eom_id|>", "<|eot_id|>")),
    Format("llama", "<|python_start|>", _decide_python_start, parse_pythonic, ends=("<|python_end|>",)),
    Format("pythonic", "<|tool_call_start|>", _decide_lfm2, parse_pythonic, ends=("<|tool_call_end|>",)),
    Format("kimi", "<|tool_calls_section_begin|>", _KIMI_SECTION, parse_kimi, ends=_KIMI_STRAYS),
    Format("kimi", "<|tool_call_section_begin|>", _KIMI_SECTION, parse_kimi, ends=_KIMI_STRAYS),
    Format("kimi", "<|tool_call_begin|>", _decide_after((), _decide_kimi_name), parse_kimi, ends=("<|tool_call_end|>",), strays=_KIMI_STRAYS),
    Format("deepseek", _DS_BEGIN, _decide_after(("<｜tool▁call▁begin｜>",), _decide_ds_name), parse_deepseek, ends=(_DS_END,), strays=_DS_STRAYS),
    Format("deepseek", "<｜tool▁call▁begin｜>", _decide_after((), _decide_ds_name), parse_deepseek, ends=("<｜tool▁call▁end｜>",), strays=(_DS_END, *_DS_STRAYS)),
    Format("deepseek", "<|tool▁calls▁begin|>", _decide_after(("<|tool▁call▁begin|>",), _decide_ds_name), parse_deepseek, ends=("<|tool▁calls▁end|>",), strays=_DS_STRAYS),
    Format("deepseek", "<｜DSML｜function_calls", _decide_invoke_block("<｜DSML｜function_calls"), parse_invoke, ends=("</｜DSML｜function_calls>",)),
    Format("deepseek", "<｜DSML｜tool_calls", _decide_invoke_block("<｜DSML｜tool_calls"), parse_invoke, ends=("</｜DSML｜tool_calls>",)),
    Format("deepseek", "<｜DSML｜invoke", lambda b, i, t: _decide_invoke(b, i, t, len("<｜DSML｜invoke")), parse_invoke, ends=("</｜DSML｜invoke>",), strays=_DSML_STRAYS),
    Format("deepseek", "<function_calls", _decide_invoke_block("<function_calls"), parse_invoke, ends=("</function_calls>",)),
    Format("minimax", "<minimax:tool_call", _decide_invoke_block("<minimax:tool_call"), parse_invoke, ends=("</minimax:tool_call>",)),
    Format("minimax", "<invoke", _decide_invoke, parse_invoke, ends=("</invoke>",), strays=("</minimax:tool_call>", "</function_calls>")),
    Format("minimax", "[TOOL_CALL]", _decide_json_after("[TOOL_CALL]"), parse_tool_call_brackets, ends=("[/TOOL_CALL]",)),
    Format("gemma", "<|tool_call>", decide_gemma, parse_gemma, ends=("<tool_call|>",)),
    Format("harmony", "<|channel|>", decide_harmony, parse_harmony, ends=_HARMONY_ENDS, stops=_HARMONY_STOPS, head_end="<|message|>"),
    Format("harmony", "<|start|>", decide_harmony, parse_harmony, ends=_HARMONY_ENDS, stops=_HARMONY_STOPS, head_end="<|message|>"),
)
# Found by position rather than by marker: a JSON object (or an array of them) or a pythonic
# list at the start of a line, and a fenced block (the scanner reads its info string and first line).
LINE_FORMATS = (
    Format("json", "", decide_json, parse_json, balanced=True),
    Format("pythonic", "", _decide_pythonic, parse_pythonic, balanced=True),
)
FENCED = Format("fenced", "```", None, parse_fenced, ends=("```",))

# GLM has no marker of its own: it is read inside Hermes's <tool_call> (parse_tool_call).
assert {f.name for f in (*FORMATS, *LINE_FORMATS, FENCED)} | {"glm"} == set(TEXT_CALL_FORMATS), "providers.TEXT_CALL_FORMATS lists every format"
