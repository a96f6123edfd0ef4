"""Variants of the formats that no tracker showed verbatim, each in the shape its source describes
(checked 2026-12-02); the corpus (test_textcall_corpus.py) holds the real outputs."""

import pytest

from freeclaude.translate.callformats import FENCED, FORMATS, LINE_FORMATS
from freeclaude.translate.callparse import Tools, glm_name
from freeclaude.translate.textcalls import Scanner

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}
TOOLS = {"get_weather": WEATHER, "get_datetime": {"type": "object", "properties": {"timezone": {"type": "string"}}},
         "exec": {"type": "object", "properties": {"command": {"type": "string"}}},
         "shell": {"type": "object", "properties": {"command": {"type": "array"}}},
         "Bash": {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}}}}
PARIS = ("call", "get_weather", {"city": "Paris"})


def scan(text: str, step: int) -> list[tuple]:
    s = Scanner(TOOLS)
    items = [i for n in range(0, len(text), step) for i in s.feed(text[n:n + step])] + s.flush()
    merged: list[tuple] = []
    for item in items:
        if merged and item[0] == merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + item[1])
        else:
            merged.append(item)
    return merged


VARIANTS = [
    # Qwen2.5 was trained with <function_call> before <tool_call> (thinking-machines-lab/tinker-cookbook#58)
    ("function_call tag", '<function_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</function_call>', [PARIS]),
    # Hermes 2 Pro's own tags (NousResearch/Hermes-Function-Calling#17)
    ("tools tag", '<tools>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tools>', [PARIS]),
    # Llama 4 wrote {"type": "function", "name": …, "parameters": …} (vllm#46863), here one brace short
    ("type function, brace missing", '{"type": "function", "name": "Bash", "parameters": {"command": "echo hello", "timeout": 12000}',
     [("call", "Bash", {"command": "echo hello", "timeout": 12000})]),
    # OpenAI's nested shape, as models copy it from the API they were shown
    ("type function nested", '{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}', [PARIS]),
    # an array of Llama 3 JSON calls (vLLM llama_tool_parser.py takes several)
    ("array of calls", '[{"name": "get_weather", "parameters": {"city": "Paris"}}, {"name": "get_datetime", "parameters": {}}]',
     [PARIS, ("call", "get_datetime", {})]),
    # Llama 3.1's <|python_tag|>, ended by <|eom_id|> (its chat template)
    ("python_tag", '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>', [PARIS]),
    # sentencepiece's ▁ for every space (mistralai/mistral-common#43 shows it in decoded text)
    ("mistral with ▁", '[TOOL_CALLS]▁[{"name":▁"get_weather",▁"arguments":▁{"city":▁"Paris"}}]', [PARIS]),
    # v11 with [ARGS] (Devstral, ml-explore/mlx-lm#1307)
    ("mistral v11 [ARGS]", 'Checking.[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}', [("text", "Checking."), PARIS]),
    # Kimi without its section begin, a stray section end after the call (unslothai/unsloth#5624 heals these)
    ("kimi partial envelope", '<|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>', [PARIS]),
    # a section end after each call (vllm#28543's parser keeps state per section)
    ("kimi section per call", '<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'
     '<|tool_calls_section_begin|><|tool_call_begin|>functions.get_datetime:1<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>',
     [PARIS, ("call", "get_datetime", {})]),
    # DSML with its prefixes stripped, no wrapper or a plain one (sgl-project/sglang#40236's shapes)
    ("dsml stripped", '<function_calls>\n<invoke name="get_datetime">\n<parameter name="timezone" string="true">Asia/Shanghai</parameter>\n</invoke>\n</function_calls>',
     [("call", "get_datetime", {"timezone": "Asia/Shanghai"})]),
    ("bare invoke", '<invoke name="get_datetime">\n<parameter name="timezone" string="true">UTC</parameter>\n</invoke>',
     [("call", "get_datetime", {"timezone": "UTC"})]),
    ("dsml bare invoke", '<｜DSML｜invoke name="get_datetime">\n<｜DSML｜parameter name="timezone" string="true">UTC</｜DSML｜parameter>\n</｜DSML｜invoke>',
     [("call", "get_datetime", {"timezone": "UTC"})]),
    # MiniMax with a closing tag missing (vllm#38803 fixed its parser for such calls)
    ("minimax parameter unclosed", '<minimax:tool_call>\n<invoke name="exec">\n<parameter name="command">ls -la\n</invoke>\n</minimax:tool_call>',
     [("call", "exec", {"command": "ls -la"})]),
    # MiniMax M2.x with every "<" and "</" of its inner tags dropped, as exo-explore/exo#1882 shows it
    # (the <minimax:tool_call> wrapper, a single token there, added)
    ("minimax tags without brackets", '<minimax:tool_call>\ninvoke name="get_weather">\nparameter name="city">Parisparameter>\ninvoke>\n</minimax:tool_call>', [PARIS]),
    ("minimax arrow spelling", '[TOOL_CALL]\n{tool => "exec", args => {\n  --command "ls -la"\n}}\n[/TOOL_CALL]',
     [("call", "exec", {"command": "ls -la"})]),
    # harmony with "json" glued to the name (llama.cpp#15158) and with a space in it
    ("harmony glued json", '<|channel|>commentary to=functions.shelljson<|message|>{"command": ["ls"]}<|call|>', [("call", "shell", {"command": ["ls"]})]),
    ("harmony space in name", '<|channel|>commentary to=functions.get weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>', [PARIS]),
    # DeepSeek V3.1 with the full-width bars (vLLM deepseekv31_tool_parser.py)
    ("deepseek v3.1", '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>', [PARIS]),
    # Gemma 4's call(key: value) spelling (NousResearch/hermes-agent#7449)
    ("gemma parentheses", '<|tool_call>call:get_weather(city: "Paris")<tool_call|>', [PARIS]),
]


@pytest.mark.parametrize("name,text,expected", VARIANTS, ids=[v[0] for v in VARIANTS])
@pytest.mark.parametrize("step", [1, 3, 10_000])
def test_format_variants(name, text, expected, step):
    assert scan(text, step) == expected


@pytest.mark.parametrize("name", ["get weather", "unknown"])
def test_only_an_offered_name_is_a_call_in_every_format(name):
    for text, _ in [(v[1], v[2]) for v in VARIANTS]:
        wrong = text.replace("get_weather", "nothing_offered").replace("get weather", "nothing offered")
        if "nothing" in wrong:
            assert all(item[0] != "call" or item[1] != "get_weather" for item in scan(wrong, 4)), wrong


def test_every_format_says_where_it_comes_from():
    for f in (*FORMATS, *LINE_FORMATS, FENCED):
        assert any(word in (f.parse.__doc__ or "") for word in ("template", "vLLM", "llama.cpp", "SGLang", "#")), f.marker


def test_a_glm_name_needs_an_offered_tool_to_split():
    tools = Tools({"read": {}, "read_file": {}})
    assert glm_name("read_filepath</arg_key><arg_value>/x</arg_value>", tools) == ("call", "read_file", {"path": "/x"})
    assert glm_name("other</arg_value>", tools) is None


def test_an_arrow_value_json_cannot_read_is_kept_as_written():
    # a backslash JSON does not know (a regular expression, a Windows path) once stopped the stream
    text = '[TOOL_CALL]\n{tool => "exec", args => {\n  --command "grep -E \'\\d+\' C:\\logs"\n}}\n[/TOOL_CALL]'
    assert scan(text, 4) == [("call", "exec", {"command": "grep -E '\\d+' C:\\logs"})]
