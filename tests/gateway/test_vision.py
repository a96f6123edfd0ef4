"""Images for a model that cannot see them, through the gateway: the profile's vision chain
describes each image once, the description stands in its place, and the vision calls are billed
under their own tier (vision.py, server.py)."""

import base64

from freeclaude.profiles.schema import parse
from freeclaude.profiles.store import template
from tests.conftest import rows
from tests.emulators import pointed
from tests.emulators.brain import Turn
from tests.emulators.deepseek import DeepSeekAnthropic
from tests.support.fakes import Json, completion

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(b"\x89PNG\r\n\x1a\n fake pixels").decode()}}
OTHER = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(b"\x89PNG\r\n\x1a\n other pixels").decode()}}
DESCRIPTION = "A red square with the word PAPAYA in white."


class Models:
    """One fake upstream serving a text-only model and vision models: a vision model asked about
    an image describes it (`fail` makes the named ones refuse); the text model repeats its prompt."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.fail = fail
        self.vision: list[dict] = []
        self.text: list[dict] = []

    def __call__(self, body: dict):
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        if any(p.get("type") == "image_url" for p in parts):
            self.vision.append(body)
            if body["model"] in self.fail:
                return Json({"error": {"message": "overloaded"}}, status=503)
            return Json(completion({"content": DESCRIPTION}, prompt=900, completion_tokens=12))
        self.text.append(body)
        said = "\n".join(m["content"] if isinstance(m["content"], str) else str(m["content"]) for m in body["messages"])
        return Json(completion({"content": "I was told: " + said}))


def eyes_profile(url: str, vision: list[str] | None = ("fake:eyes",)) -> dict:
    models = {"text-only": {"quirks": {"images": False}, "input_price": 1.0, "output_price": 2.0},
              "eyes": {"input_price": 0.5, "output_price": 0.5}, "eyes-backup": {}}
    tiers = {"default": ["fake:text-only"]}
    if vision:
        tiers["vision"] = list(vision)
    return parse({"providers": {"fake": {"kind": "openai", "base_url": url, "api_key_env": "FAKE_KEY", "models": models}},
                  "tiers": tiers}, "eyes", "test")


def ask(*content) -> dict:
    return {"model": "claude-sonnet-5-5", "max_tokens": 512, "messages": [{"role": "user", "content": list(content)}]}


def read_result(image: dict) -> dict:
    """Claude Code's Read of an image file: the image comes back inside the tool result."""
    return {"model": "claude-sonnet-5-5", "max_tokens": 512, "messages": [
        {"role": "user", "content": "What is in pic.png?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read",
                                           "input": {"file_path": "/p/pic.png"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [image]}]}]}


async def test_an_image_is_described_and_the_description_stands_in_its_place(gateway, fake, sdk):
    models = fake.default = Models()
    server = await gateway(eyes_profile(fake.url))
    message = await sdk(server).messages.create(**ask({"type": "text", "text": "What is this?"}, IMAGE))
    said = message.content[0].text
    assert f"[image described by fake:eyes: {DESCRIPTION}]" in said and "What is this?" in said
    assert "image_url" not in str(models.text)  # the text-only model got no image
    (asked,) = models.vision
    image = asked["messages"][0]["content"][0]["image_url"]["url"]
    assert asked["model"] == "eyes" and image.startswith("data:image/png;base64,")
    assert [(r["tier"], r["upstream_model"], r["input_tokens"], r["output_tokens"]) for r in rows(server)] == [
        ("vision", "eyes", 900, 12), ("sonnet", "text-only", 20, 5)]


async def test_an_image_a_tool_returned_is_described_inside_the_tool_result(gateway, fake, sdk):
    models = fake.default = Models()
    server = await gateway(eyes_profile(fake.url))
    await sdk(server).messages.create(**read_result(IMAGE))
    tool = next(m for m in models.text[0]["messages"] if m["role"] == "tool")
    assert tool["content"] == f"[image described by fake:eyes: {DESCRIPTION}]"
    assert [m["role"] for m in models.text[0]["messages"]] == ["user", "assistant", "tool"]


async def test_each_image_is_described_once_however_often_the_history_repeats_it(gateway, fake, sdk):
    models = fake.default = Models()
    server = await gateway(eyes_profile(fake.url))
    client = sdk(server)
    await client.messages.create(**ask(IMAGE))
    await client.messages.create(**read_result(IMAGE))
    await client.messages.create(**ask(IMAGE, OTHER))
    assert len(models.vision) == 2  # IMAGE once, OTHER once
    assert [r["tier"] for r in rows(server)].count("vision") == 2


async def test_the_vision_chain_falls_back_like_any_tier(gateway, fake, sdk):
    models = fake.default = Models(fail=("eyes",))
    server = await gateway(eyes_profile(fake.url, vision=["fake:eyes", "fake:eyes-backup"]))
    message = await sdk(server).messages.create(**ask(IMAGE))
    assert "[image described by fake:eyes-backup:" in message.content[0].text
    assert [b["model"] for b in models.vision] == ["eyes", "eyes-backup"]
    assert [(r["tier"], r["upstream_model"], r["outcome"]) for r in rows(server)][:2] == [
        ("vision", "eyes", "overloaded_error"), ("vision", "eyes-backup", "ok")]


async def test_a_vision_chain_that_fails_leaves_a_note_and_is_asked_again_next_time(gateway, fake, sdk):
    models = fake.default = Models(fail=("eyes",))
    server = await gateway(eyes_profile(fake.url), max_wait=0.0)
    client = sdk(server)
    message = await client.messages.create(**ask(IMAGE))
    assert "[image not shown: the vision model could not describe it" in message.content[0].text
    models.fail = ()
    server.router._cool_until.clear()  # the failed model's cooldown is over
    message = await client.messages.create(**ask(IMAGE))
    assert f"[image described by fake:eyes: {DESCRIPTION}]" in message.content[0].text


async def test_without_a_vision_chain_the_image_is_replaced_by_a_note(gateway, fake, sdk):
    models = fake.default = Models()
    server = await gateway(eyes_profile(fake.url, vision=None))
    message = await sdk(server).messages.create(**ask(IMAGE))
    assert ("[image not shown: fake:text-only cannot see images and profile eyes has no vision chain to describe them"
            in message.content[0].text)
    assert models.vision == [] and [r["tier"] for r in rows(server)] == ["sonnet"]


async def test_deepseek_v4_pro_gets_descriptions_from_flash_through_the_passthrough(gateway, sdk, aiohttp_server):
    """DeepSeek's Messages endpoint refuses images for V4 Pro: the unchanged template's vision
    chain (V4.1 Flash) describes them first."""
    def brain(view):
        if "Describe this image" in view.user:
            return Turn(text=DESCRIPTION)
        return Turn(text="Seen: " + view.user)

    deepseek = DeepSeekAnthropic(brain)
    server = await aiohttp_server(deepseek.app(), host="127.0.0.1")
    data, env = pointed(template("deepseek"), str(server.make_url("")).rstrip("/"), deepseek.key)
    gw = await gateway(parse(data, "deepseek", "deepseek"), env=env)
    message = await sdk(gw).messages.create(**dict(ask({"type": "text", "text": "What is this?"}, IMAGE),
                                                   model="claude-opus-5-5"))
    assert deepseek.rejected == []
    assert f"[image described by deepseek:deepseek-flash: {DESCRIPTION}]" in message.content[0].text
    assert [(r["tier"], r["upstream_model"]) for r in rows(gw)] == [("vision", "deepseek-flash"), ("opus", "deepseek-v4-pro")]
