"""Images for models that cannot see them, pure: finding them, keying them, what the vision model
is asked, and the replacement (translate/images.py)."""

from freeclaude.translate import images

PNG = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
JPEG = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "iVBORw0KGgo="}}
URL = {"type": "image", "source": {"type": "url", "url": "https://x.org/a.png"}}


def body_with(*content, tool: list | None = None) -> dict:
    messages = [{"role": "user", "content": list(content)}]
    if tool is not None:
        messages += [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": tool}]}]
    return {"model": "m", "max_tokens": 10, "messages": messages}


def test_keys_follow_the_source_not_the_block():
    assert images.key(PNG) == images.key(dict(PNG, cache_control={"type": "ephemeral"}))
    assert len({images.key(PNG), images.key(JPEG), images.key(URL)}) == 3


def test_images_are_found_in_user_turns_and_tool_results_each_once():
    body = body_with({"type": "text", "text": "look"}, PNG, URL, tool=[{"type": "text", "text": "file"}, PNG, JPEG])
    assert list(images.find(body).values()) == [PNG, URL, JPEG]
    assert images.find(body_with({"type": "text", "text": "no images"})) == {}


def test_each_image_is_replaced_by_its_text_and_nothing_else_changes():
    body = body_with({"type": "text", "text": "look"}, PNG, tool=[{"type": "text", "text": "file"}, PNG, URL])
    texts = {images.key(PNG): "[png]", images.key(URL): "[url]"}
    out = images.replace(body, texts)
    assert out["messages"][0]["content"] == [{"type": "text", "text": "look"}, {"type": "text", "text": "[png]"}]
    assert out["messages"][2]["content"][0]["content"] == [
        {"type": "text", "text": "file"}, {"type": "text", "text": "[png]"}, {"type": "text", "text": "[url]"}]
    assert out["messages"][1] is body["messages"][1]
    assert body["messages"][0]["content"][1] is PNG  # the client's request is left as it was


def test_the_vision_model_gets_the_image_and_the_prompt_unstreamed():
    asked = images.request(dict(PNG, cache_control={"type": "ephemeral"}))
    assert asked["stream"] is False and asked["max_tokens"] == images.MAX_TOKENS
    assert asked["messages"] == [{"role": "user", "content": [PNG, {"type": "text", "text": images.PROMPT}]}]


def test_the_texts_say_who_described_the_image_or_why_it_is_not_there():
    assert images.described("p:m", " A red square. ") == "[image described by p:m: A red square.]"
    assert images.unseen("no vision chain").startswith("[image not shown: no vision chain")
