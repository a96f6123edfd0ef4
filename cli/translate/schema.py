"""Gemini's subset of JSON schema for tool parameters: anything outside it is a 400 there."""

from typing import Any

_GEMINI_KEYS = frozenset(
    "type format title description nullable enum items properties required minItems maxItems "
    "minimum maximum minLength maxLength pattern anyOf minProperties maxProperties".split()
)
_GEMINI_FORMATS = frozenset({"enum", "date-time"})


def clean_schema(schema: object) -> object:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "const":
            out["enum"] = [value]
        elif key not in _GEMINI_KEYS:
            continue
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: clean_schema(s) for name, s in value.items()}
        elif key == "items":
            out[key] = clean_schema(value)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [clean_schema(s) for s in value]
        elif key == "format" and value not in _GEMINI_FORMATS:
            continue
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            out["type"] = kinds[0] if kinds else "string"
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = value
    return out
