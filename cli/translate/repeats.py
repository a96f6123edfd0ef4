"""Stream lines that repeat the last text chunk byte for byte but for its text.

OpenAI-compatible servers write the text chunks of one stream alike: the same id, model, created
and layout, only "content" differs. Once a plain text chunk has been parsed in full, a line that
starts and ends with the same characters and holds exactly one JSON string between them is that
chunk with other text, which is all json.loads would find in it; so only the string is read, by
json's own scanner. Anything else is parsed in full. The streaming hot path (what it saves:
benchmarks/overhead.py, and the README's figures)."""

import re
from _json import scanstring  # what json.decoder.scanstring is (the C scanner); typed only here
from typing import Any, TypeGuard

# The key of the delta's text. Inside a JSON string every quote is escaped, so these characters
# can only be the key itself; "reasoning_content" does not match (no quote before "content").
_KEY = re.compile(r'"content"\s*:\s*"')
GIVE_UP = 8  # layouts learnt that the next line did not repeat: this server varies its lines


class Repeats:
    __slots__ = ("_prefix", "_suffix", "_misses", "_hit")

    def __init__(self) -> None:
        self._prefix: str | None = None  # the line up to its text's opening quote
        self._suffix = ""  # the line after its text's closing quote
        self._misses = 0
        self._hit = False  # the layout learnt last was repeated at least once

    def text(self, line: str) -> str | None:
        """The text of a line that repeats the layout learnt last; None for any other line."""
        prefix = self._prefix
        if prefix is None or not line.startswith(prefix) or not line.endswith(self._suffix):
            return None
        try:
            value, end = scanstring(line, len(prefix))
        except ValueError:
            return None
        if end != len(line) - len(self._suffix):
            return None
        self._hit = True
        return value

    def learn(self, line: str, chunk: object) -> None:
        """After `line` was parsed in full into `chunk`: its layout, when it is a plain text chunk."""
        if self._prefix is not None and not self._hit:
            self._misses += 1
        self._prefix, self._hit = None, False
        if self._misses >= GIVE_UP or not _plain(chunk):
            return
        found = _KEY.search(line)
        if found is None or _KEY.search(line, found.end()):
            return
        try:
            value, end = scanstring(line, found.end())
        except ValueError:
            return
        if value == chunk["choices"][0]["delta"]["content"]:
            self._prefix, self._suffix = line[:found.end()], line[end:]


def _plain(chunk: object) -> TypeGuard[dict[str, Any]]:
    """A chunk whose only news is one choice's delta text: nothing else the translator reads."""
    if not isinstance(chunk, dict) or chunk.get("error") or chunk.get("usage"):
        return False
    choices = chunk.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return False
    choice = choices[0]
    delta = choice.get("delta")
    return (isinstance(delta, dict) and delta.keys() == {"content"} and type(delta["content"]) is str
            and not choice.get("finish_reason") and "message" not in choice)
