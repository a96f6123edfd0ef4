"""The tables of the exit summary and `stats`, as a terminal shows them."""

from rich.console import Console

from freeclaude.usage import report


def row(**kw) -> dict:
    base = dict(requests=1, attempts=1, errors=0, fallbacks=0, estimated=0, input_tokens=10, output_tokens=2,
                cache_read_tokens=0, cost_usd=0.0, list_price_usd=0.01, web_searches=0)
    return base | kw


def shown(*things, width=200) -> list[list[str]]:
    console = Console(record=True, width=width)
    for thing in things:
        console.print(thing)
    return [line.split() for line in console.export_text().splitlines() if line.strip()]


def body(lines: list[list[str]]) -> list[list[str]]:
    """A table's rows: what follows the rule under its headers."""
    return lines[next(i for i, line in enumerate(lines) if line[0].startswith("─")) + 1:]


def test_tiers_come_in_claude_codes_order_then_the_rest_and_the_total_last():
    rows = {"zeta": row(), "haiku": row(), "default": row(), "alpha": row(), "opus": row()}
    lines = shown(report.usage_table(rows, "by tier", "tier", row(requests=5)))
    assert [line[0] for line in body(lines)] == ["opus", "haiku", "default", "alpha", "zeta", "total"]
    assert lines[-1][1] == "5"
    # one row: no total repeating it
    lines = shown(report.usage_table({"opus": row()}, "by tier", "tier", row()))
    assert [line[0] for line in body(lines)] == ["opus"]


def test_saved_is_the_list_price_less_the_cost_never_below_nothing():
    lines = shown(report.usage_table({"opus": row(cost_usd=0.5, list_price_usd=12.0),
                                      "haiku": row(cost_usd=3.0, list_price_usd=0.25)}, "t", "tier"))
    cells = {line[0]: line for line in body(lines)}
    assert cells["opus"][4:7] == ["$0.50", "$12.00", "$11.50"]
    assert cells["haiku"][4:7] == ["$3.00", "$0.25", "$0.0000"]  # a paid model dearer than Anthropic saves nothing


def test_on_a_narrow_terminal_the_headers_wrap_and_the_numbers_stay_whole():
    big = row(requests=1_234_567, input_tokens=98_765_432, cost_usd=200.0, list_price_usd=123.456, fallbacks=2,
              errors=3, web_searches=7)
    lines = shown(report.usage_table({"opus": big, "haiku": big}, "t", "tier", big), width=85)
    assert lines[1] == ["list", "fall-", "web"]  # the headers' first lines
    assert body(lines)[0] == ["opus", "1,234,567", "98,765,432", "2", "$200.00", "$123.46", "$0.0000", "2", "3", "7"]


def test_a_session_with_no_requests_says_so_with_what_picked_the_profile():
    console = Console(record=True, width=200)
    report.print_summary(console, {"by_tier": {}, "total": row(), "errors": []}, "free", why="[project] in ./x",
                         notes=["web search: brave at https://api.search.brave.com [key: $BRAVE]"])
    out = console.export_text()
    assert "freeclaude: no model requests this session (profile free ([project] in ./x))." in out
    assert "web search: brave at https://api.search.brave.com [key: $BRAVE]" in out  # not taken for markup


def test_the_three_commonest_errors_follow_the_bill_as_sent():
    errors = [{"error": f"[bold]upstream {i}[/bold]: 429", "count": 9 - i} for i in range(5)]
    totals = {"by_tier": {"opus": row(errors=35)}, "total": row(errors=35, estimated=2), "errors": errors}
    console = Console(record=True, width=200)
    report.print_summary(console, totals, "free")
    out = console.export_text()
    assert "2 attempt(s) got no usage from the upstream: their tokens are estimated." in out
    assert [line for line in out.splitlines() if "×" in line] == [
        "9× [bold]upstream 0[/bold]: 429", "8× [bold]upstream 1[/bold]: 429", "7× [bold]upstream 2[/bold]: 429"]


def test_usage_line():
    total = row(requests=1234, input_tokens=5_600_000, output_tokens=78_900, cost_usd=0.05, list_price_usd=21.5)
    assert report.usage_line(total) == (
        "1,234 requests, 5,600,000 tokens in, 78,900 out, $0.0500 (Anthropic's list price: $21.50)")
