"""What Anthropic would have charged: list prices per tier, for the savings column.

USD per million tokens for the models Claude Code asks for by default (Claude Opus 5.5,
Sonnet 5.5, Haiku 5.5; Anthropic's pricing pages, checked 2026-11; Fable 5.2, which Claude Code
2.1.328+ offers in /model, as resellers quote the pricing page, checked 2026-12-01, see
profiles/anthropic.toml): input, output, cache read, 5-minute cache write (1.25 times input).
Haiku 5.5 bills five times these rates for prompts over 100K tokens. Model names that are no
tier are priced as Sonnet.
"""

LIST_PRICES = {
    "opus": (4.0, 20.0, 0.20, 5.0),
    "sonnet": (2.0, 10.0, 0.10, 2.5),
    "haiku": (0.10, 0.50, 0.01, 0.125),
    "fable": (8.0, 40.0, 0.20, 10.0),
}
HAIKU_LONG_PROMPT = 100_000


def list_price(tier: str, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
    price_in, price_out, price_read, price_write = LIST_PRICES.get(tier, LIST_PRICES["sonnet"])
    scale = 5 if tier == "haiku" and input_tokens + cache_read + cache_write > HAIKU_LONG_PROMPT else 1
    return scale * (
        input_tokens * price_in + output_tokens * price_out + cache_read * price_read + cache_write * price_write
    ) / 1e6


def usd(value: float) -> str:
    """Dollars as the bill and the statusline print them: cents only once there are some."""
    return f"${value:,.4f}" if value < 0.1 else f"${value:,.2f}"
