"""What Anthropic would have charged: list prices per tier, for the savings column.

USD per million tokens (input, output), Anthropic's published prices for the current
Opus, Sonnet and Haiku models; cache reads cost a tenth of input. Model names that are no
tier are priced as Sonnet, the tier Claude Code uses for them.
"""

LIST_PRICES = {"opus": (5.0, 25.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}
CACHE_READ_FACTOR = 0.1


def list_price(tier: str, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
    price_in, price_out = LIST_PRICES.get(tier, LIST_PRICES["sonnet"])
    return (
        (input_tokens + cache_read * CACHE_READ_FACTOR + cache_write * 1.25) * price_in
        + output_tokens * price_out
    ) / 1e6
