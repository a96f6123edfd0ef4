"""Arguments of a call recovered from text, checked against the tool's input_schema.

A call the model wrote as text becomes a tool_use block only when its tool would take it: an
object, the required properties present, no property the schema closes out, each top-level
value of its declared type. Only the coercions the schema makes unambiguous are made: a number
or a boolean written as a string where the schema says integer, number or boolean, and an
object or array serialized as a JSON string where the schema says object or array. Formats that
write every value as raw text (Qwen3-Coder's <parameter=…>, GLM's <arg_value>, DSML and MiniMax
parameters) go through the same coercions, which is how their serving parsers type them too
(vLLM's qwen3coder and glm4_moe tool parsers convert by the schema's "type").
"""

import json
import re
from typing import Any, Final

_INT = re.compile(r"-?\d+\Z")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_JSON_TYPES = {"string": str, "object": dict, "array": list, "boolean": bool}


def check(args: object, schema: object) -> dict[str, Any] | None:
    """`args` as the tool takes them, or None when the tool would refuse them."""
    if not isinstance(args, dict):
        return None
    if not isinstance(schema, dict) or not schema:
        return args
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    out: dict[str, Any] = {}
    for key, value in args.items():
        sub = props.get(key)
        if sub is None:
            if schema.get("additionalProperties") is False:
                return None
            out[key] = value
            continue
        value = _typed(value, sub)
        if value is _REFUSED:
            return None
        out[key] = value
    required = schema.get("required")
    if isinstance(required, list) and any(isinstance(k, str) and k not in out for k in required):
        return None
    return out


_REFUSED: Final = object()  # what the schema refuses (None is a value)


def _kinds(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            return [k for o in options if isinstance(o, dict) for k in _kinds(o)]
    return []


def _fits(value: object, kind: str) -> bool:
    if kind == "integer":
        return type(value) is int or (type(value) is float and value.is_integer())
    if kind == "number":
        return type(value) in (int, float)
    if kind == "null":
        return value is None
    expected = _JSON_TYPES.get(kind)
    return expected is None or type(value) is expected


def _typed(value: object, schema: object) -> object:
    """The value as the schema takes it, or _REFUSED."""
    if not isinstance(schema, dict):
        return value
    kinds = _kinds(schema)
    enum = schema.get("enum")
    if not kinds or any(_fits(value, k) for k in kinds):
        if isinstance(enum, list) and value not in enum:
            return _REFUSED
        return int(value) if kinds == ["integer"] and type(value) is float else value
    if not isinstance(value, str):
        return _REFUSED
    text = value.strip()
    for kind in kinds:
        coerced = _coerce(text, kind)
        if coerced is not _REFUSED:
            if isinstance(enum, list) and coerced not in enum:
                return _REFUSED
            return coerced
    return _REFUSED


def _coerce(text: str, kind: str) -> object:
    if kind == "integer" and _INT.match(text):
        return int(text)
    if kind == "number" and _NUMBER.match(text):
        number = float(text)
        return int(number) if _INT.match(text) else number
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "null" and text == "null":
        return None
    if kind in ("object", "array") and text[:1] in "{[":
        try:
            decoded = json.loads(text)
        except ValueError:
            return _REFUSED
        if _fits(decoded, kind):
            return decoded
    return _REFUSED
