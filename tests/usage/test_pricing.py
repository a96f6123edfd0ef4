"""Anthropic's list prices, for the savings column: per tier, per kind of token."""

import pytest

from freeclaude.usage.pricing import HAIKU_LONG_PROMPT, LIST_PRICES, list_price, usd


@pytest.mark.parametrize("tier", sorted(LIST_PRICES))
def test_each_kind_of_token_has_its_own_price(tier):
    price_in, price_out, price_read, price_write = LIST_PRICES[tier]
    n = HAIKU_LONG_PROMPT  # a tenth of the million the prices are per, short of haiku's long-prompt rate
    assert list_price(tier, n, 0) == pytest.approx(price_in / 10)
    assert list_price(tier, 0, 10 * n) == pytest.approx(price_out)  # output does not count toward the prompt
    assert list_price(tier, 0, 0, cache_read=n) == pytest.approx(price_read / 10)
    assert list_price(tier, 0, 0, cache_write=n) == pytest.approx(price_write / 10)
    assert list_price(tier, n // 4, n, n // 4, n // 4) == pytest.approx(
        (price_in + price_read + price_write) / 40 + price_out / 10)
    assert price_write == pytest.approx(1.25 * price_in)  # the 5-minute write: 1.25 times input


def test_a_model_name_of_no_tier_is_priced_as_sonnet():
    assert list_price("default", 1000, 200, 300, 400) == list_price("sonnet", 1000, 200, 300, 400)
    assert list_price("vision", 10, 0) == list_price("sonnet", 10, 0)


def test_haiku_bills_five_times_over_100k_prompt_tokens_cache_included():
    price_in, price_out, price_read, price_write = LIST_PRICES["haiku"]
    n = HAIKU_LONG_PROMPT - 20
    at_limit = list_price("haiku", n, 1000, cache_read=10, cache_write=10)
    assert at_limit == pytest.approx((n * price_in + 1000 * price_out + 10 * price_read + 10 * price_write) / 1e6)
    over = list_price("haiku", n, 1000, cache_read=10, cache_write=11)
    assert over == pytest.approx(5 * (n * price_in + 1000 * price_out + 10 * price_read + 11 * price_write) / 1e6)
    # only haiku: sonnet's price per token is the same either side of the line
    assert list_price("sonnet", 4 * HAIKU_LONG_PROMPT, 0) == pytest.approx(4 * list_price("sonnet", HAIKU_LONG_PROMPT, 0))


@pytest.mark.parametrize("value, shown", [
    (0.0, "$0.0000"),
    (0.01234, "$0.0123"),
    (0.0999, "$0.0999"),
    (0.1, "$0.10"),
    (12.345, "$12.35"),  # cents once there are some
    (1234.5, "$1,234.50"),
])
def test_usd_shows_fractions_of_a_cent_until_there_are_cents(value, shown):
    assert usd(value) == shown
