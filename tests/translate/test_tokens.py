from freeclaude.translate.tokens import IMAGE_TOKENS, count_text, estimate


def test_counts_grow_with_text():
    assert count_text("") == 0
    assert count_text("hello world") == 2
    assert count_text("internationalization") == 3  # long words cost more than one token


def test_estimate_covers_every_part_of_a_request(wire_requests):
    body = wire_requests[1]["body"]
    total = estimate(body)
    without_tools = estimate({**body, "tools": []})
    assert total > without_tools > 0


def test_images_counted():
    body = {"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]}
    assert estimate(body) >= IMAGE_TOKENS
