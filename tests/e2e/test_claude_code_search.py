"""The real Claude Code (node_modules, 2.1.330) searching the web through `freeclaude run` on a model
that has no web search: a scripted model drives the whole ToolSearch -> WebSearch -> answer
sequence, Claude Code's WebSearch sub-request is answered by the gateway's search loop against a
strict SearXNG fake, and the answer carries a URL only those results hold."""

import json
import re
import sqlite3

import pytest

from tests.conftest import run_claude
from tests.support import search_fakes
from tests.support.fakes import Stream, call, chunk, usage
from tests.support.search_fakes import Page

pytestmark = pytest.mark.claude

PAGE = Page("Freeclaude 3 release notes", "https://notes.example.org/freeclaude-3/changelog",
            "Freeclaude 3 adds web search for models that have none.", "2026-11-30")
QUERY = "freeclaude release notes"


def _calls(name: str, args: dict, n: int) -> Stream:
    return Stream([chunk({"role": "assistant", "content": ""}),
                   chunk({"tool_calls": [call(0, f"call_{n}", name, json.dumps(args))]}),
                   chunk(finish="tool_calls"), chunk(usage=usage(1000 + n, 10 + n))])


def _text(text: str, n: int) -> Stream:
    return Stream([chunk({"content": text}), chunk(finish="stop"), chunk(usage=usage(1000 + n, 10 + n))])


class Researcher:
    """A model that, asked to search the web, loads WebSearch with ToolSearch (it is a deferred
    tool), calls it, and answers with the first URL the results hold; asked (in Claude Code's
    search sub-request) with only web_search, it searches and sums the results up."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def __call__(self, body: dict) -> Stream:
        self.bodies.append(body)
        n = len(self.bodies)
        tools = [t["function"]["name"] for t in body.get("tools") or ()]
        results = [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]
        if tools == ["web_search"]:  # the sub-request
            if not results:
                return _calls("web_search", {"query": QUERY}, n)
            urls = re.findall(r"URL: (\S+)", results[-1])
            return _text(f"The release notes are at {urls[0]}." if urls else "The search found nothing.", n)
        if "WebSearch" not in tools:
            if "ToolSearch" in tools and "search the web" in json.dumps(body["messages"]).lower():
                return _calls("ToolSearch", {"query": "select:WebSearch", "max_results": 1}, n)
            return _text("OK", n)
        if not any("Web search results" in r for r in results):
            return _calls("WebSearch", {"query": QUERY}, n)
        urls = re.findall(r'"url":"([^"]+)"', results[-1])
        return _text(f"Here they are: {urls[0]}" if urls else "I could not find them.", n)


async def test_claude_code_answers_with_a_url_from_the_search_results(tmp_path, fake, claude_bin, search_fake):
    searxng = await search_fake(search_fakes.SearXNG(pages=[PAGE]))
    model = fake.default = Researcher()
    profile = {"providers": {"fake": {"kind": "openai", "base_url": fake.url, "api_key_env": "FAKE_KEY", "models": {
                   "free-model": {"context_window": 200000, "max_output_tokens": 16384}}}},
               "tiers": {"default": ["fake:free-model"]}, "search": {"kind": "searxng", "base_url": searxng.url}}
    code, out, err, home, _ = await run_claude(tmp_path, claude_bin, profile, "-p", "Search the web for the freeclaude "
                                               "release notes and give me the link.", "--allowedTools", "WebSearch")
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert f"Here they are: {PAGE.url}" in out
    assert all(PAGE.url not in json.dumps(b) for b in model.bodies[:3])  # nobody knew it before the search
    assert [r.query for r in searxng.received] == [{"q": QUERY, "format": "json"}]
    # the sub-request: the plain tool, then its result with the page's text, then the summary
    sub = [b for b in model.bodies if [t["function"]["name"] for t in b.get("tools") or ()] == ["web_search"]]
    assert len(sub) == 2 and PAGE.text in next(m["content"] for m in sub[1]["messages"] if m["role"] == "tool")
    # Claude Code handed the main model the links and the summary
    final = next(m["content"] for m in reversed(model.bodies[-1]["messages"]) if m["role"] == "tool")
    assert f'"url":"{PAGE.url}"' in final and f"The release notes are at {PAGE.url}." in final
    db = sqlite3.connect(home / "usage.db")
    assert db.execute("SELECT sum(web_searches), count(*) FROM attempts").fetchone() == (1, len(model.bodies) - 1)
    assert "searches" in err and f"web search: searxng at {searxng.url}" in err
