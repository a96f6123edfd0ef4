"""What an upstream is: its kind, where it lives, its limits, and the quirks we must work around.

Plain data, no I/O, so both the pure translation and the profile loader can share it. The
profile schema is read off these dataclasses (see schema.py): a field here is a setting there.
"""

import ipaddress
import urllib.parse
from dataclasses import dataclass, field, fields

KINDS = ("openai", "anthropic")
AUTHS = ("bearer", "x-api-key")
SEARCH_KINDS = ("searxng", "brave", "tavily")
# The ways of writing a tool call into text that the gateway reads (translate/callformats.py):
# the names `text_call_formats_off` takes.
TEXT_CALL_FORMATS = ("hermes", "qwen3_coder", "glm", "json", "fenced", "pythonic", "llama", "mistral", "kimi",
                     "deepseek", "harmony", "minimax", "gemma", "seed", "lmstudio")
# The services' own endpoints; SearXNG is self-hosted and has none.
SEARCH_URLS = {"brave": "https://api.search.brave.com/res/v1", "tavily": "https://api.tavily.com"}
# A model on this machine or the LAN: a CPU's prefill of Claude Code's first prompt (12,500
# tokens) can take minutes, and a large model can pause between tokens.
LOCAL_TIMEOUTS = {"timeout": 1800.0, "idle_timeout": 300.0}


@dataclass(frozen=True)
class Quirks:
    """Per provider flags, overridable per model; templates set them for what each one accepts."""

    # Many chat templates refuse a system message that is not first: carry later ones in the
    # user turn as a reminder instead (keeps the prompt prefix stable for upstream caching).
    merge_system: bool = True
    images: bool = True
    # DeepSeek/Kimi/GLM-style thinking with tools wants earlier reasoning back as reasoning_content.
    replay_reasoning: bool = False
    # OpenAI's reasoning models only accept max_completion_tokens.
    max_tokens_field: str = "max_tokens"
    # Gemini rejects $schema, additionalProperties and most string formats.
    clean_schema: bool = False
    stream_options: bool = True
    reasoning_effort: bool = False
    # Parse tool calls that a model writes as text (<tool_call>, <function=...>, fenced JSON…).
    text_tool_calls: bool = True
    # Formats of those not to read, space-separated names of TEXT_CALL_FORMATS: for a model whose
    # answers use one of them for something else.
    text_call_formats_off: str = ""
    # Gemini 3 refuses a replayed tool call without the thought_signature it came with.
    thought_signatures: bool = False
    # OpenRouter asks for each turn's reasoning_details back unchanged.
    reasoning_details: bool = False
    # Mistral refuses a user message right after a tool message.
    user_after_tool: bool = True
    # Some providers refuse the parallel_tool_calls field outright.
    parallel_tool_calls: bool = True
    # A Messages upstream that runs Anthropic's web search server tool itself (Anthropic, DeepSeek,
    # MiniMax); for any other the gateway runs the search with the profile's [search] backend.
    server_web_search: bool = False
    # The provider counts the max_tokens asked for against its tokens per minute before the model
    # runs (Groq, Cerebras): ask for a bounded answer, and more only when an answer needs it.
    reserves_max_tokens: bool = False
    # Which limit an x-ratelimit-*-requests header without a window counts: "rpm" as OpenAI, "rpd"
    # as Groq (ratelimit_headers.py).
    requests_header: str = "rpm"
    # How a budget comes back (limits.py): "window" (a window after use, all of it by the reset the
    # headers name) or "continuous" (a bucket refilling evenly, as Cerebras documents).
    limits_refill: str = "window"
    # False where cached prompt tokens do not count against the token budgets (Groq).
    counts_cached: bool = True

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}


@dataclass(frozen=True)
class Limits:
    """Budgets a provider enforces, so we wait our turn instead of tripping them. Tokens count
    as the providers that publish token limits count them: prompt plus requested max_tokens."""

    rpm: int | None = None  # requests per minute
    rpd: int | None = None  # requests per day
    tpm: int | None = None  # tokens per minute
    tph: int | None = None  # tokens per hour
    tpd: int | None = None  # tokens per day

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


LIMIT_NAMES = tuple(f.name for f in fields(Limits))


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
    limits: Limits = field(default_factory=Limits)  # per model, where a provider limits each model
    extra_body: dict = field(default_factory=dict)  # merged into every request (with the provider's)
    quirks: Quirks = field(default_factory=Quirks)

    @property
    def ref(self) -> str:
        """How a profile, a user, the ledger's notes and every message name the model, and the key
        it is kept under (a Model itself does not hash: its extra_body is a dict)."""
        return f"{self.provider}:{self.name}"

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
        read_price = self.input_price if self.cache_read_price is None else self.cache_read_price
        return (
            (input_tokens + cache_write) * self.input_price
            + cache_read * read_price
            + output_tokens * self.output_price
        ) / 1e6

    def window(self, provider_limits: Limits) -> int:
        """The largest request (prompt + max_tokens) this model can ever take: its context
        window, or less where a tokens-per-minute budget counts the whole request."""
        caps = [self.context_window] + [lim.tpm for lim in (self.limits, provider_limits) if lim.tpm]
        return min(caps)


@dataclass(frozen=True)
class Search:
    """The backend that runs web searches for models that cannot: a profile's [search] table."""

    kind: str  # one of SEARCH_KINDS
    base_url: str = ""  # empty: the service's own (SEARCH_URLS)
    api_key_env: str | None = None
    max_results: int = 8  # results given to the model per search
    timeout: float = 15.0  # seconds for one search

    @property
    def url(self) -> str:
        return self.base_url or SEARCH_URLS.get(self.kind, "")


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str
    base_url: str
    api_key_env: str | None = None
    auth: str = ""  # "bearer" or "x-api-key"; empty: the kind's usual one
    concurrency: int | None = None  # requests in flight at once
    # Seconds to the first event (queueing and prefill; a whole answer when not streamed), and
    # between events; SSE comment lines count for neither (deadline.py). For a cloud service;
    # profiles.parse gives a local server LOCAL_TIMEOUTS instead, unless the profile says.
    timeout: float = 180.0
    idle_timeout: float = 120.0
    headers: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    extra_body: dict = field(default_factory=dict)
    quirks: Quirks = field(default_factory=Quirks)

    @staticmethod
    def is_local(url: str) -> bool:
        """A base URL on this machine or a private network."""
        host = urllib.parse.urlsplit(url).hostname or ""
        if host == "localhost" or host.endswith((".localhost", ".local", ".lan")):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_loopback or address.is_private

    def auth_headers(self, key: str | None) -> dict[str, str]:
        if not key:
            return {}
        auth = self.auth or ("x-api-key" if self.kind == "anthropic" else "bearer")
        return {"x-api-key": key} if auth == "x-api-key" else {"Authorization": f"Bearer {key}"}
