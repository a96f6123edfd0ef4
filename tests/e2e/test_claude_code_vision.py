"""The real Claude Code (node_modules, 2.1.330) reading a PNG with its Read tool through `freeclaude
run`, on a model that cannot see: the profile's vision model describes the image, and the answer
is built from that description."""

import json
import sqlite3
import struct
import zlib

import pytest

from tests.conftest import run_claude
from tests.support.fakes import Json, Stream, call, chunk, completion, usage

pytestmark = pytest.mark.claude

DESCRIPTION = "A red square holding the word PAPAYA in white capitals."


def png(width: int = 16, height: int = 16, rgb: tuple = (220, 20, 20)) -> bytes:
    """A small solid-colour PNG, written out by hand (signature, IHDR, IDAT, IEND)."""
    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + part(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + part(b"IDAT", zlib.compress(rows)) + part(b"IEND", b""))


class Models:
    """The text-only model reads the file with Read, then answers from what the tool gave it; the
    vision model, asked with an image, describes it."""

    def __init__(self, path) -> None:
        self.path = path
        self.text: list[dict] = []
        self.vision: list[dict] = []

    def __call__(self, body: dict):
        parts = [p for m in body["messages"] if isinstance(m.get("content"), list) for p in m["content"]]
        if body["model"] == "eyes":
            self.vision.append(body)
            return Json(completion({"content": DESCRIPTION}, prompt=1700, completion_tokens=15))
        self.text.append(body)
        n = len(self.text)
        tools = [t["function"]["name"] for t in body.get("tools") or ()]
        results = [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]
        if "Read" in tools and "pic.png" in json.dumps(body["messages"]) and not results:
            args = json.dumps({"file_path": str(self.path)})
            return Stream([chunk({"tool_calls": [call(0, "call_read", "Read", args)]}), chunk(finish="tool_calls"),
                           chunk(usage=usage(1000 + n, 10))])
        seen = [r for r in results if "[image described by" in r]
        if seen and "Write" in tools and len(results) == 1:  # one more turn: the history goes back with the image
            args = json.dumps({"file_path": str(self.path.with_name("seen.txt")), "content": seen[-1]})
            return Stream([chunk({"tool_calls": [call(0, "call_write", "Write", args)]}), chunk(finish="tool_calls"),
                           chunk(usage=usage(1000 + n, 10))])
        text = f"The picture shows: {seen[-1]}" if seen else ("I could not see it." if results else "OK")
        if any(p.get("type") == "image_url" for p in parts):
            text = "I was sent an image I cannot see."
        if not body.get("stream"):
            return Json(completion({"content": text}))
        return Stream([chunk({"content": text}), chunk(finish="stop"), chunk(usage=usage(1000 + n, 10))])


async def test_claude_code_reads_a_png_through_a_text_only_model(tmp_path, fake, claude_bin):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pic.png").write_bytes(png())
    models = fake.default = Models(project / "pic.png")
    profile = {"providers": {"fake": {"kind": "openai", "base_url": fake.url, "api_key_env": "FAKE_KEY", "models": {
                   "text-only": {"context_window": 200000, "max_output_tokens": 16384, "quirks": {"images": False}},
                   "eyes": {"context_window": 32768, "max_output_tokens": 4096, "input_price": 0.1, "output_price": 0.4}}}},
               "tiers": {"default": ["fake:text-only"], "vision": ["fake:eyes"]}}
    code, out, err, home, _ = await run_claude(tmp_path, claude_bin, profile, "-p", "What is in pic.png? Use Read, "
                                               "and note it in seen.txt.", "--allowedTools", "Read,Write")
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert f"The picture shows: [image described by fake:eyes: {DESCRIPTION}]" in out
    assert DESCRIPTION in (project / "seen.txt").read_text()
    carried = [b for b in models.text if any(m["role"] == "tool" and m["tool_call_id"] == "call_read"
                                             and DESCRIPTION in str(m["content"]) for m in b["messages"])]
    assert len(carried) == 2 and len(models.vision) == 1  # Claude Code sent the image twice: described once
    image = models.vision[0]["messages"][0]["content"][0]["image_url"]["url"]
    assert image.startswith("data:image/png;base64,")
    assert "image_url" not in json.dumps(models.text)
    db = sqlite3.connect(home / "usage.db")
    assert db.execute("SELECT tier, upstream_model, input_tokens, output_tokens FROM attempts WHERE tier = 'vision'"
                      ).fetchall() == [("vision", "eyes", 1700, 15)]
    assert "vision" in err  # its own row in the bill
