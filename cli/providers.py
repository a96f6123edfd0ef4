"""What an upstream is: its kind, where it lives, its limits, and the quirks we must work around.

Plain data, no I/O, so both the pure translation and the profile loader can share it.
"""

from dataclasses import dataclass, field, fields

KINDS = ("openai", "anthropic")


@dataclass(frozen=True)
class Quirks:
    """Per provider flags, overridable per model; templates set them for what each one accepts."""

    # Many chat templates refuse a system message that is not first: carry later ones in the
    # user turn as a reminder instead (keeps the prompt prefix stable for upstream caching).
    merge_system: bool = True
    images: bool = True
    # DeepSeek-style thinking with tools wants earlier reasoning sent back.
    replay_reasoning: bool = False
    # OpenAI's reasoning models only accept max_completion_tokens.
    max_tokens_field: str = "max_tokens"
    # Gemini rejects $schema, additionalProperties and most string formats.
    clean_schema: bool = False
    stream_options: bool = True
    reasoning_effort: bool = False
    # Parse tool calls that a model writes as text (<tool_call>, <function=...>, fenced JSON).
    text_tool_calls: bool = True

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    context_window: int = 131072
    max_output_tokens: int = 8192
    input_price: float = 0.0  # USD per million tokens
    output_price: float = 0.0
    cache_read_price: float | None = None  # defaults to input_price
    # Sent when the client sets none. Claude Code never does (it asks for thinking instead), so
    # the upstream's own default applies: often 0.8-1.0, far too hot for small local models.
    temperature: float | None = None
    quirks: Quirks = field(default_factory=Quirks)

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
        read_price = self.input_price if self.cache_read_price is None else self.cache_read_price
        return (
            (input_tokens + cache_write) * self.input_price
            + cache_read * read_price
            + output_tokens * self.output_price
        ) / 1e6


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str
    base_url: str
    api_key_env: str | None = None
    rpm: int | None = None  # requests per minute we allow ourselves
    concurrency: int | None = None  # requests in flight at once
    timeout: float = 600.0  # seconds to wait for upstream bytes; local models can be slow
    headers: dict[str, str] = field(default_factory=dict)
    quirks: Quirks = field(default_factory=Quirks)
