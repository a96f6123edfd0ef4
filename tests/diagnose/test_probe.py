"""`freeclaude profile test` against a loopback upstream that answers each probe like a model would."""

import asyncio
import io
import json

import tomli_w
from rich.console import Console
from typer.testing import CliRunner

from freeclaude.app import app
from freeclaude.diagnose import probe
from tests.support.fakes import Json, Stream, call, completion, profile, text_chunks


def model(body: dict):
    """A good model: right answers and exact tool calls; the Tokyo call it gets wrong on purpose."""
    text = body["messages"][-1]["content"]
    if body.get("stream"):
        return Stream(text_chunks("1 2 3 4 5 6 7 8 9 10", n=10, completion=20), delay=0.01)
    if "Paris and in Tokyo" in text:
        calls = [call(0, "c1", "get_weather", json.dumps({"city": "Paris", "unit": "celsius"})),
                 call(1, "c2", "get_weather", json.dumps({"city": "Tokio", "unit": "celsius"}))]
        return Json(completion({"content": None, "tool_calls": [dict(c, type="function") for c in calls]}, "tool_calls"))
    if "Paris" in text:
        return Json(completion({"content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}}]},
            "tool_calls"))
    return Json(completion({"content": "pong"}))


async def test_probe_measures_each_tier(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    monkeypatch.setenv("FAKE_KEY", "k")
    fake.default = model
    p = profile(fake.url, tiers={"opus": ["fake:up-model"], "sonnet": ["fake:up-model"], "haiku": ["fake:small"]},
                extra_models={"small": {}})
    results = await probe.run(p, Console(file=open("/dev/null", "w")), rounds=2)
    assert [r["tier"] for r in results] == ["opus, sonnet, fable", "haiku"]  # fable borrows opus
    r = results[0]
    assert r["probes"] == 8 and r["success"] == 1.0
    assert r["tool_accuracy"] == 0.5  # the parallel probe wanted Tokyo
    assert r["latency_p50_ms"] > 0 and r["latency_p95_ms"] >= r["latency_p50_ms"]
    assert r["ttft_ms"] is not None and r["tokens_per_s"] > 0
    assert (r["input_usd_per_mtok"], r["output_usd_per_mtok"]) == (1.0, 2.0)
    assert r["errors"] == []
    table = probe.table(results)
    assert table.row_count == 2


async def test_probe_reports_errors(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    monkeypatch.setenv("FAKE_KEY", "k")
    fake.default = Json({"error": {"message": "model not found"}}, status=404)
    results = await probe.run(profile(fake.url), Console(file=open("/dev/null", "w")), rounds=1)
    assert results[0]["success"] == 0 and "404" in results[0]["errors"][0]


async def profile_test(fake, tmp_path, monkeypatch, *flags: str, columns: str = "200"):
    """`freeclaude profile test p FLAGS --rounds 1` through the CLI runner, against the good model."""
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    fake.default = model
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.toml").write_text(tomli_w.dumps(profile(fake.url).data))
    result = await asyncio.to_thread(CliRunner().invoke, app, ["profile", "test", "p", *flags, "--rounds", "1"],
                                     env={"FAKE_KEY": "k", "COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result.stdout


async def test_profile_test_command_json(fake, tmp_path, monkeypatch):
    [row] = json.loads(await profile_test(fake, tmp_path, monkeypatch, "--json"))
    assert row["tier"] == "opus, sonnet, haiku, fable" and row["success"] == 1.0


async def test_profile_test_command_markdown(fake, tmp_path, monkeypatch):
    stdout = await profile_test(fake, tmp_path, monkeypatch, "--markdown", columns="40")  # never wrapped
    header, rule, row = stdout.strip().splitlines()
    assert header.startswith("| model |") and set(rule) <= set("|-")
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "`fake:up-model`" and cells[1] == "opus, sonnet, haiku, fable"
    assert cells[2] == "100%" and cells[3] == "50%" and cells[4].endswith(" ms")  # the Tokyo call is wrong
    assert "profile p, freeclaude" in cells[7]


async def test_profile_test_prints_what_the_provider_stated_of_the_plan(tmp_path, monkeypatch):
    """Against the Groq emulator on the Developer plan, the groq template unchanged: the table and
    the JSON say the plan's limits as Groq's headers state them, beside the template's."""
    from freeclaude.profiles import schema, store
    from tests.emulators import emulate, pointed

    emulator, server, url = await emulate("groq")
    emulator.paid_plan()
    try:
        data, env = pointed(store.templates()["groq"], url, emulator.key)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
        results = await probe.run(schema.parse(data, "groq", "groq"), Console(file=open("/dev/null", "w")), rounds=1)
    finally:
        await server.close()
    stated = results[0]["limits"]
    assert (stated["tpm"]["stated"], stated["tpm"]["profile"]) == (250_000, 8000)
    assert (stated["rpd"]["stated"], stated["rpd"]["profile"]) == (500_000, 1000) and stated["rpd"]["remaining"] < 500_000
    console = Console(file=io.StringIO(), width=400)
    console.print(probe.table(results))
    assert "rpd 500,000 (profile 1,000), 499,99" in console.file.getvalue()
    assert "tpm 250,000 (profile 8,000), 2" in console.file.getvalue()
