"""Web search backends (a profile's [search] table): SearXNG, Brave Search and Tavily, behind one
small interface. `search(session, query, tool)` returns hits, or raises SearchError with the code
Anthropic's API would give (too_many_requests, unavailable, ...) and a message the model can
pass on. A backend's key comes from the variable the profile names and never reaches a message
or a log line.
"""

import html
import logging
import re

import aiohttp

from freeclaude.gateway.upstream import env_proxy
from freeclaude.profiles.providers import Search
from freeclaude.translate.websearch import Hit, SearchError, Tool

log = logging.getLogger("freeclaude")

NOT_SET_UP = ("web search is not set up in this freeclaude profile (it has no [search] table), so no search ran. "
              "Tell the user you could not search the web, and that a [search] table in their freeclaude profile "
              "(SearXNG, Brave or Tavily) sets it up; then answer from what you know and say that you did.")
_TAGS = re.compile(r"<[^>]+>")


def clean(text) -> str:
    """Snippet text without markup or entities (Brave highlights matches with <strong>)."""
    return html.unescape(_TAGS.sub("", text)).strip() if isinstance(text, str) else ""


class Backend:
    """One search service. Subclasses say how to ask (`_request`) and how to read the answer
    (`_hits`); what a refusal means is shared, with `_refused` for a service's own codes."""

    kind = ""

    def __init__(self, config: Search, key: str | None, env) -> None:
        self.config = config
        self.key = key
        self.max_results = config.max_results
        self.proxy = env_proxy(config.url, env)
        self.timeout = aiohttp.ClientTimeout(total=config.timeout)

    async def search(self, session: aiohttp.ClientSession, query: str, tool: Tool) -> list[Hit]:
        method, url, kw = self._request(query, tool)
        try:
            async with session.request(method, url, timeout=self.timeout, proxy=self.proxy, **kw) as resp:
                text = await resp.text(errors="replace")
                if resp.status != 200:
                    raise self._failed(self._refused(resp.status, text), text)
                try:
                    return self._hits(await resp.json(content_type=None))
                except (ValueError, KeyError, TypeError, AttributeError):
                    raise self._failed(SearchError("unavailable", f"{self.kind} sent an answer that could not be read"),
                                       text) from None
        except TimeoutError:
            raise self._failed(SearchError("unavailable", f"{self.kind} did not answer in {self.config.timeout:.0f} s")) from None
        except aiohttp.ClientError as e:
            raise self._failed(SearchError("unavailable", f"cannot reach {self.kind} at {self.config.url}: "
                                                          f"{type(e).__name__}")) from None

    def _request(self, query: str, tool: Tool) -> tuple[str, str, dict]:
        raise NotImplementedError

    def _hits(self, data) -> list[Hit]:
        raise NotImplementedError

    def _refused(self, status: int, body: str) -> SearchError:
        if status == 429:
            return SearchError("too_many_requests", f"{self.kind} is rate limiting the searches: try again later")
        if status in (401, 403):
            return SearchError("unavailable", f"{self.kind} refused the search key (HTTP {status})")
        if status in (400, 422):
            return SearchError("invalid_tool_input", f"{self.kind} refused the query (HTTP {status})")
        return SearchError("unavailable", f"{self.kind} failed (HTTP {status})")

    def _failed(self, error: SearchError, body: str = "") -> SearchError:
        # A key the service quotes is redacted on the way to the log (logs.py).
        log.warning("web search (%s): %s%s", self.kind, error, f": {body[:300]}" if body else "")
        return error

    def _sites(self, query: str, tool: Tool) -> str:
        """allowed_domains as site: operators, which both SearXNG's engines and Brave read; the
        gateway still filters what comes back."""
        hosts = [d.split("/", 1)[0] for d in tool.allowed]
        return f"{query} {' OR '.join(f'site:{h}' for h in hosts)}" if hosts else query


class SearXNG(Backend):
    """A self-hosted SearXNG: GET /search?q=...&format=json. Sources, checked 2026-12-01:
    docs.searxng.org/dev/search_api.html (parameters; "Requesting an unset format will return a
    403 Forbidden error") and searx/webapp.py, searx/webutils.py get_json_response of searxng at
    9fea412 (2026-08-22): the answer's keys and each result's url, title, content, publishedDate."""

    kind = "searxng"

    def _request(self, query: str, tool: Tool) -> tuple[str, str, dict]:
        return "GET", self.config.url + "/search", {"params": {"q": self._sites(query, tool), "format": "json"},
                                                     "headers": {"Accept": "application/json"}}

    def _refused(self, status: int, body: str) -> SearchError:
        if status == 403:
            return SearchError("unavailable", "SearXNG refused the JSON format: enable it in its settings.yml "
                                              "(search: formats: [html, json])")
        return super()._refused(status, body)

    def _hits(self, data) -> list[Hit]:
        hits = [Hit(title=clean(r.get("title")), url=r.get("url") or "", snippet=clean(r.get("content")),
                    page_age=(r.get("publishedDate") or "")[:10] or None)
                for r in data["results"] if isinstance(r, dict)]
        if not hits and data.get("unresponsive_engines"):
            engines = ", ".join(str(e[0]) for e in data["unresponsive_engines"] if isinstance(e, list) and e)
            raise SearchError("unavailable", f"every SearXNG engine failed ({engines})")
        return hits


class Brave(Backend):
    """The Brave Search API: GET {base}/web/search with X-Subscription-Token. Sources, checked
    2026-12-01: api-dashboard.search.brave.com/api-reference/web/search/get (q: at most 400
    characters and 50 words; count 1-20; country a 2-letter code or ALL; text_decorations) and
    its error responses (422 SUBSCRIPTION_TOKEN_INVALID for a bad key, 429 RATE_LIMITED and
    QUOTA_LIMITED), api.search.brave.com/app/documentation/web-search/query."""

    kind = "brave"
    MAX_CHARS, MAX_WORDS = 400, 50

    def _request(self, query: str, tool: Tool) -> tuple[str, str, dict]:
        q = self._sites(query, tool)
        if len(q) > self.MAX_CHARS or len(q.split()) > self.MAX_WORDS:
            raise SearchError("query_too_long", f"Brave takes queries of at most {self.MAX_CHARS} characters and "
                                                f"{self.MAX_WORDS} words: search with a shorter one")
        params = {"q": q, "count": str(min(20, self.config.max_results * 2)), "text_decorations": "false"}
        if tool.country and re.fullmatch(r"[A-Za-z]{2}", tool.country):
            params["country"] = tool.country.upper()
        return "GET", self.config.url + "/web/search", {
            "params": params, "headers": {"Accept": "application/json", "X-Subscription-Token": self.key or ""}}

    def _refused(self, status: int, body: str) -> SearchError:
        if "SUBSCRIPTION_TOKEN_INVALID" in body or "SUBSCRIPTION_NOT_FOUND" in body:
            return SearchError("unavailable", "Brave refused the search key")
        if "QUOTA_LIMITED" in body:
            return SearchError("too_many_requests", "the Brave plan's search quota is used up")
        return super()._refused(status, body)

    def _hits(self, data) -> list[Hit]:
        results = (data.get("web") or {}).get("results") or []
        return [Hit(title=clean(r.get("title")), url=r.get("url") or "", snippet=clean(r.get("description")),
                    page_age=r.get("age") or (r.get("page_age") or "")[:10] or None)
                for r in results if isinstance(r, dict)]


class Tavily(Backend):
    """Tavily: POST {base}/search with a Bearer key. Sources, checked 2026-12-01:
    docs.tavily.com/documentation/api-reference/endpoint/search (query, max_results 0-20,
    search_depth, include_domains / exclude_domains; results with title, url, content, score)
    and help.tavily.com/articles/8645538886-understanding-http-errors (400, 401, 429, 432 plan
    limit, 433 pay-as-you-go limit, 500)."""

    kind = "tavily"

    def _request(self, query: str, tool: Tool) -> tuple[str, str, dict]:
        body: dict = {"query": query, "max_results": min(20, self.config.max_results * 2), "search_depth": "basic"}
        if tool.allowed:
            body["include_domains"] = list(tool.allowed)
        if tool.blocked:
            body["exclude_domains"] = list(tool.blocked)
        return "POST", self.config.url + "/search", {
            "json": body, "headers": {"Authorization": f"Bearer {self.key or ''}", "Accept": "application/json"}}

    def _refused(self, status: int, body: str) -> SearchError:
        if status in (432, 433):
            return SearchError("too_many_requests", "the Tavily plan's usage limit is reached")
        return super()._refused(status, body)

    def _hits(self, data) -> list[Hit]:
        return [Hit(title=clean(r.get("title")), url=r.get("url") or "", snippet=clean(r.get("content")),
                    page_age=(r.get("published_date") or "")[:10] or None)
                for r in data["results"] if isinstance(r, dict)]


class NoBackend:
    """A profile without [search]: every search says so, in words the model passes on."""

    kind = "none"
    max_results = 0

    async def search(self, session, query: str, tool: Tool) -> list[Hit]:
        raise SearchError("unavailable", NOT_SET_UP)


BACKENDS = {b.kind: b for b in (SearXNG, Brave, Tavily)}


def backend(config: Search | None, key: str | None, env) -> Backend | NoBackend:
    return BACKENDS[config.kind](config, key, env) if config else NoBackend()
