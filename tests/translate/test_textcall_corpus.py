"""The corpus of real outputs (tests/translate/corpus): each streamed by a real loopback upstream
that has no tool parser, as llama.cpp, Ollama or vLLM serve a model without one, through the
gateway to the official SDK, once split at random points and once whole; and through the
translator alone, cut every way a stream can be cut."""

import json
from pathlib import Path

import pytest

from tests.support.fakes import Json, Stream, completion, profile
from tests.translate.textcall_corpus import chunks, comparable, recoverable, samples, table, translate

CASES = samples()
IDS = [f"{fmt}/{s['id']}" for fmt, s in CASES]
README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_corpus_is_cited_and_large_enough():
    assert len({s["id"] for _, s in CASES}) == len(CASES)
    assert len(CASES) >= 57
    for _, s in CASES:
        assert s["source"].startswith("https://github.com/") and s["checked"] and s["model"] and s["tools"]
    formats = {fmt for fmt, _ in CASES}
    assert {"negative", "structured"} <= formats
    assert sum(not recoverable(s) for _, s in CASES) >= 5  # what must stay text


CUTS = [(how, fmt, s) for how in ("whole", "source", "random", "random-2", "one character at a time")
        for fmt, s in CASES if how == "whole" or "content" in s]  # structured deltas come as they came


@pytest.mark.parametrize("how,fmt,sample", CUTS, ids=[f"{how}-{fmt}/{s['id']}" for how, fmt, s in CUTS])
def test_the_translator_reads_every_sample_however_it_is_cut(how, fmt, sample):
    if how == "one character at a time":
        sample = dict(sample, chunks=list(sample["content"]))
        how = "source"
    seed = 2 if how == "random-2" else 0
    assert translate(sample, how.split("-")[0], seed) == sample["expect"]


@pytest.mark.parametrize("fmt,sample", [(f, s) for f, s in CASES if "content" in s and recoverable(s)],
                         ids=[i for i, (_, s) in zip(IDS, CASES) if "content" in s and recoverable(s)])
def test_without_recovery_every_call_stays_text(fmt, sample):
    """What the gateway did before, and does with the quirk off: the markup is the answer."""
    assert translate(sample, "whole", text_tool_calls=False) == [{"type": "text", "text": sample["content"]}]


async def test_every_sample_through_a_loopback_upstream_and_the_gateway(fake, gateway, sdk):
    by_id = {s["id"]: s for _, s in CASES}

    def reply(body: dict) -> Stream:
        how, sid = body["messages"][-1]["content"].split(" ", 1)
        return Stream(chunks(by_id[sid], how))

    fake.default = reply
    server = await gateway(profile(fake.url))
    client = sdk(server)
    wrong = []
    for fmt, sample in CASES:
        for how in ("random", "whole"):
            async with client.messages.stream(
                    model="claude-opus-5-5", max_tokens=1024, tools=sample["tools"],
                    messages=[{"role": "user", "content": f"{how} {sample['id']}"}]) as stream:
                message = await stream.get_final_message()
            got = comparable([block.model_dump() for block in message.content])
            calls = any(b["type"] == "tool_use" for b in got)
            if got != sample["expect"] or (message.stop_reason == "tool_use") != calls:
                wrong.append((fmt, sample["id"], how, json.dumps(got, ensure_ascii=False)[:300]))
            tools_sent = [t["function"]["name"] for t in fake.last.body.get("tools", [])]
            assert tools_sent == [t["name"] for t in sample["tools"]]
    assert not wrong


def test_the_readme_gives_the_recovery_rate_the_corpus_measures():
    assert table() in README.read_text()


@pytest.mark.parametrize("quirks,blocks", [({"text_call_formats_off": "qwen3_coder"}, ["text"]),
                                           ({"text_tool_calls": False}, ["text"]), ({}, ["tool_use"])])
async def test_a_profile_quirk_turns_recovery_off_for_its_models(fake, gateway, sdk, quirks, blocks):
    """And not only for streams: an answer asked for whole goes through the same translation."""
    sample = next(s for _, s in CASES if s["id"] == "no-opener-read")
    fake.default = Json(completion({"content": sample["content"]}))
    server = await gateway(profile(fake.url, quirks=quirks))
    message = await sdk(server).messages.create(model="claude-opus-5-5", max_tokens=256, tools=sample["tools"],
                                                messages=[{"role": "user", "content": "read it"}])
    assert [b.type for b in message.content] == blocks
