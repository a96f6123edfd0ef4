"""The search backends against strict fakes of SearXNG, Brave and Tavily (tests/support/search_fakes.py):
what each is asked, what comes back as hits, and every refusal as the error code Anthropic uses."""

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web

from freeclaude.gateway import search
from freeclaude.profiles.providers import Search
from freeclaude.translate import websearch
from freeclaude.translate.websearch import SearchError, Tool
from tests.support import search_fakes
from tests.support.search_fakes import Page

KEY = "search-secret-key-42"
PAGES = [
    Page("Freeclaude release notes", "https://docs.example.org/freeclaude/releases", "Version 3 adds web search.", "2026-11-30"),
    Page("Freeclaude on GitHub", "https://github.com/example/freeclaude", "Run Claude Code on free models."),
    Page("Unrelated cooking", "https://food.example.com/soup", "A soup recipe."),
]
TOOL = Tool("web_search")


def backend(kind: str, url: str, key: str | None = None, **kw):
    return search.backend(Search(kind=kind, base_url=url, api_key_env="K" if key else None, **kw), key, {})


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def test_searxng_asks_its_json_api_and_reads_the_results(search_fake, session):
    fake = await search_fake(search_fakes.SearXNG(pages=PAGES))
    hits = await backend("searxng", fake.url).search(session, "freeclaude web search", TOOL)
    assert fake.last.path == "/search" and fake.last.query == {"q": "freeclaude web search", "format": "json"}
    assert [(h.title, h.url) for h in hits] == [(p.title, p.url) for p in PAGES[:2]]
    assert hits[0].snippet == "Version 3 adds web search." and hits[0].page_age == "2026-11-30"
    assert hits[1].page_age is None


async def test_searxng_without_the_json_format_enabled_says_how_to_enable_it(search_fake, session, caplog):
    fake = search_fakes.SearXNG(pages=PAGES)
    fake.formats = ("html",)  # SearXNG's own default
    await search_fake(fake)
    with pytest.raises(SearchError) as e, caplog.at_level(logging.WARNING, "freeclaude"):
        await backend("searxng", fake.url).search(session, "freeclaude", TOOL)
    assert e.value.code == "unavailable" and "formats: [html, json]" in str(e.value)
    assert "403" in caplog.text or "Forbidden" in caplog.text


async def test_allowed_domains_become_site_operators(search_fake, session):
    fake = await search_fake(search_fakes.SearXNG(pages=PAGES))
    tool = Tool("web_search", allowed=("github.com", "docs.example.org/freeclaude"))
    hits = await backend("searxng", fake.url).search(session, "freeclaude", tool)
    assert fake.last.query["q"] == "freeclaude site:github.com OR site:docs.example.org"
    assert {h.url for h in hits} == {PAGES[0].url, PAGES[1].url}


async def test_brave_sends_its_token_and_asks_for_plain_snippets(search_fake, session):
    fake = await search_fake(search_fakes.Brave(key=KEY, pages=PAGES))
    hits = await backend("brave", fake.url + "/res/v1", KEY, max_results=5).search(
        session, "freeclaude", Tool("web_search", country="de"))
    assert fake.last.headers["X-Subscription-Token"] == KEY
    assert fake.last.query == {"q": "freeclaude", "count": "10", "text_decorations": "false", "country": "DE"}
    assert [h.url for h in hits] == [PAGES[0].url, PAGES[1].url]
    assert hits[0].snippet == "Version 3 adds web search." and hits[0].page_age == "2026-11-30"


def test_markup_and_entities_are_stripped_from_snippets():
    assert search.clean("Run <strong>Claude</strong> Code &amp; more") == "Run Claude Code & more"


async def test_brave_with_no_web_results_is_an_empty_answer(search_fake, session):
    fake = await search_fake(search_fakes.Brave(key=KEY, pages=PAGES))
    assert await backend("brave", fake.url + "/res/v1", KEY).search(session, "zzzqqq", TOOL) == []


@pytest.mark.parametrize("query, code", [("word " * 51, "query_too_long"), ("x" * 401, "query_too_long")])
async def test_brave_query_limits_are_checked_before_asking(search_fake, session, query, code):
    fake = await search_fake(search_fakes.Brave(key=KEY, pages=PAGES))
    with pytest.raises(SearchError) as e:
        await backend("brave", fake.url + "/res/v1", KEY).search(session, query, TOOL)
    assert e.value.code == code and fake.received == []


async def test_a_wrong_key_is_unavailable_and_never_quoted(search_fake, session, caplog):
    fake = await search_fake(search_fakes.Brave(key=KEY, pages=PAGES))
    wrong = "wrong-key-that-must-not-leak"
    with pytest.raises(SearchError) as e, caplog.at_level(logging.WARNING, "freeclaude"):
        await backend("brave", fake.url + "/res/v1", wrong).search(session, "freeclaude", TOOL)
    assert e.value.code == "unavailable" and "key" in str(e.value)
    assert wrong not in str(e.value) + caplog.text


async def test_tavily_posts_its_query_with_the_domain_filters(search_fake, session):
    fake = await search_fake(search_fakes.Tavily(key=KEY, pages=PAGES))
    tool = Tool("web_search", blocked=("github.com",))
    hits = await backend("tavily", fake.url, KEY, max_results=3).search(session, "freeclaude", tool)
    assert fake.last.headers["Authorization"] == f"Bearer {KEY}"
    assert fake.last.body == {"query": "freeclaude", "max_results": 6, "search_depth": "basic",
                              "exclude_domains": ["github.com"]}
    assert [h.url for h in hits] == [PAGES[0].url]


@pytest.mark.parametrize("kind, refuse, code", [
    ("searxng", (429, "Too Many Requests"), "too_many_requests"),
    ("searxng", (500, {"error": "search error"}), "unavailable"),
    ("brave", (429, None), "too_many_requests"),
    ("tavily", (429, "Your request has been blocked due to excessive requests."), "too_many_requests"),
    ("tavily", (432, "This request exceeds your plan's set usage limit."), "too_many_requests"),
    ("tavily", (433, "This request exceeds the pay-as-you-go limit."), "too_many_requests"),
    ("tavily", (500, "Internal Server Error"), "unavailable"),
])
async def test_refusals_become_anthropic_error_codes(search_fake, session, kind, refuse, code):
    make = {"searxng": lambda: search_fakes.SearXNG(pages=PAGES), "brave": lambda: search_fakes.Brave(key=KEY, pages=PAGES),
            "tavily": lambda: search_fakes.Tavily(key=KEY, pages=PAGES)}[kind]
    fake = make()
    fake.refuse = refuse
    await search_fake(fake)
    url = fake.url + ("/res/v1" if kind == "brave" else "")
    with pytest.raises(SearchError) as e:
        await backend(kind, url, None if kind == "searxng" else KEY).search(session, "freeclaude", TOOL)
    assert e.value.code == code


async def test_an_answer_that_is_not_json_is_unavailable(aiohttp_server, session):
    async def html(request):
        return web.Response(text="<html>not json</html>")

    app = web.Application()
    app.router.add_get("/search", html)
    server = await aiohttp_server(app, host="127.0.0.1")
    with pytest.raises(SearchError) as e:
        await backend("searxng", str(server.make_url("")).rstrip("/")).search(session, "q", TOOL)
    assert e.value.code == "unavailable" and "could not be read" in str(e.value)


async def test_fields_of_the_wrong_json_type_are_left_out_not_passed_on(aiohttp_server, session):
    # A url that is not a string reached the domain filters, whose AttributeError failed the whole answer;
    # a date that is not one made every hit of the answer unreadable.
    async def odd(request):
        return web.json_response({"results": [{"title": "a", "url": 5, "content": "x"},
                                              {"title": "b", "url": "https://x.org/b", "publishedDate": 20261130}]})

    app = web.Application()
    app.router.add_get("/search", odd)
    server = await aiohttp_server(app, host="127.0.0.1")
    hits = await backend("searxng", str(server.make_url("")).rstrip("/")).search(session, "q", TOOL)
    assert [(h.url, h.page_age) for h in websearch.kept(TOOL, hits, 10)] == [("https://x.org/b", None)]


async def test_a_service_that_does_not_answer_in_time_is_unavailable(aiohttp_server, session):
    async def slow(request):
        await asyncio.sleep(5)
        return web.json_response({"results": []})

    app = web.Application()
    app.router.add_get("/search", slow)
    server = await aiohttp_server(app, host="127.0.0.1")
    with pytest.raises(SearchError) as e:
        await backend("searxng", str(server.make_url("")).rstrip("/"), timeout=0.2).search(session, "q", TOOL)
    assert e.value.code == "unavailable" and "did not answer" in str(e.value)


async def test_a_service_that_is_not_there_is_unavailable(unused_tcp_port, session):
    with pytest.raises(SearchError) as e:
        await backend("searxng", f"http://127.0.0.1:{unused_tcp_port}").search(session, "q", TOOL)
    assert e.value.code == "unavailable" and "cannot reach" in str(e.value)


async def test_no_search_configured_says_so_for_the_model_to_pass_on(session):
    with pytest.raises(SearchError) as e:
        await search.backend(None, None, {}).search(session, "anything", TOOL)
    assert e.value.code == "unavailable"
    assert "[search] table" in str(e.value) and "Tell the user" in str(e.value)
