"""Strict fakes of the web search services, real aiohttp servers on loopback, built from each
service's own documentation (checked 2026-12-01; sources in each class). Each answers from a list
of pages it "indexes" (title, url, text), refuses what its service refuses, with its status and
body, and keeps what it received.
"""

import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Page:
    title: str
    url: str
    text: str
    published: str | None = None  # ISO date


@dataclass
class Received:
    method: str
    path: str
    query: dict
    headers: dict
    body: dict | None


@dataclass
class _Fake:
    pages: list[Page] = field(default_factory=list)
    key: str = ""  # the key it takes, where the service takes one
    refuse: tuple[int, object] | None = None  # answer every request with this (status, body)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    routes = ()  # (method, path) pairs the service answers on

    def app(self) -> web.Application:
        app = web.Application()
        for method, path in self.routes:
            app.router.add_route(method, path, self._search)
        return app

    def matching(self, query: str) -> list[Page]:
        """Pages whose title or text shares a word with the query (site: operators apply)."""
        sites = re.findall(r"site:(\S+)", query)
        words = {w.lower() for w in re.findall(r"\w+", re.sub(r"site:\S+|\bOR\b", " ", query)) if len(w) > 2}
        found = [p for p in self.pages if words & {w.lower() for w in re.findall(r"\w+", p.title + " " + p.text)}]
        if sites:
            found = [p for p in found if any(urllib.parse.urlsplit(p.url).hostname.endswith(s) for s in sites)]
        return found

    async def _record(self, request: web.Request) -> None:
        body = None
        if request.can_read_body:
            try:
                body = json.loads(await request.read())
            except ValueError:
                body = None
        self.received.append(Received(request.method, request.path, dict(request.query), dict(request.headers), body))

    @property
    def last(self) -> Received:
        return self.received[-1]


class SearXNG(_Fake):
    """SearXNG's search API. docs.searxng.org/dev/search_api.html: GET or POST on / and /search,
    parameters q (required), categories, engines, language, pageno, time_range, format, safesearch;
    "Requesting an unset format will return a 403 Forbidden error". The answer as searx/webutils.py
    get_json_response writes it (searxng 9fea412, 2026-08-22): query, results, answers,
    corrections, infoboxes, suggestions, unresponsive_engines; each result a MainResult's fields.
    A missing q is a 400 {"error": "No query"} (searx/webapp.py index_error)."""

    formats = ("html", "json")  # settings.yml search.formats (the default install has html only)
    routes = (("GET", "/search"), ("POST", "/search"))

    async def _search(self, request: web.Request) -> web.Response:
        await self._record(request)
        form = dict(request.query) if request.method == "GET" else dict(await request.post())
        fmt = form.get("format", "html")
        if fmt not in self.formats:
            return web.Response(status=403, text="<!doctype html><title>403 Forbidden</title><h1>Forbidden</h1>",
                                content_type="text/html")
        if self.refuse:
            status, body = self.refuse
            return web.Response(status=status, text=body if isinstance(body, str) else json.dumps(body),
                                content_type="text/plain" if isinstance(body, str) else "application/json")
        if not form.get("q"):
            return web.json_response({"error": "No query"}, status=400)
        if fmt != "json":
            return web.Response(text="<html>results</html>", content_type="text/html")
        results = []
        for i, p in enumerate(self.matching(form["q"]), 1):
            parts = urllib.parse.urlsplit(p.url)
            results.append({
                "url": p.url, "engine": "duckduckgo", "parsed_url": [parts.scheme, parts.netloc, parts.path, "",
                                                                      parts.query, parts.fragment],
                "template": "default.html", "title": p.title, "content": p.text, "img_src": "", "iframe_src": "",
                "audio_src": "", "thumbnail": "", "publishedDate": f"{p.published}T00:00:00" if p.published else None,
                "pubdate": "", "length": None, "views": "", "author": "", "metadata": "", "priority": "",
                "engines": ["duckduckgo", "brave"], "open_group": False, "close_group": False, "positions": [i, i],
                "score": round(2.0 / i, 3), "category": "general"})
        return web.json_response({"query": form["q"], "results": results, "answers": [], "corrections": [],
                                  "infoboxes": [], "suggestions": [], "unresponsive_engines": []})


class Brave(_Fake):
    """The Brave Search API, GET /res/v1/web/search. api-dashboard.search.brave.com/api-reference/
    web/search/get: header X-Subscription-Token; q required, at most 400 characters and 50 words;
    count 1-20; offset 0-9; country a 2-letter code or ALL; text_decorations (default true:
    matches wrapped in <strong>). Refusals as its API reference shows them: 422
    SUBSCRIPTION_TOKEN_INVALID for a bad key, 422 VALIDATION for a bad parameter or a missing
    header, 429 RATE_LIMITED."""

    routes = (("GET", "/res/v1/web/search"),)

    @staticmethod
    def error(status: int, code: str, detail: str, component: str) -> web.Response:
        return web.json_response({"type": "ErrorResponse", "error": {
            "id": str(uuid.uuid4()), "status": status, "code": code, "detail": detail,
            "meta": {"component": component}}, "time": 1764547200}, status=status)

    async def _search(self, request: web.Request) -> web.Response:
        await self._record(request)
        token = request.headers.get("X-Subscription-Token")
        if token is None:
            return self.error(422, "VALIDATION", "Unable to validate request parameter(s)", "validation")
        if token != self.key:
            return self.error(422, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.",
                              "authentication")
        if self.refuse:
            return self.error(429, "RATE_LIMITED", "Request rate limit exceeded for plan.", "rate_limiter")
        q = request.query.get("q", "")
        problems = []
        if not q or len(q) > 400 or len(q.split()) > 50:
            problems.append("q")
        count = request.query.get("count", "20")
        if not (count.isdigit() and 1 <= int(count) <= 20):
            problems.append("count")
        country = request.query.get("country", "US")
        if not re.fullmatch(r"[A-Z]{2}|ALL", country):
            problems.append("country")
        decorations = request.query.get("text_decorations", "true")
        if decorations not in ("true", "false", "1", "0"):
            problems.append("text_decorations")
        if problems:
            return self.error(422, "VALIDATION", f"Unable to validate request parameter(s): {', '.join(problems)}",
                              "validation")
        results = []
        for p in self.matching(q)[:int(count)]:
            text = p.text
            if decorations in ("true", "1"):
                first = q.split()[0]
                text = re.sub(re.escape(first), lambda m: f"<strong>{m.group(0)}</strong>", text, flags=re.I)
            host = urllib.parse.urlsplit(p.url).hostname
            results.append({"type": "search_result", "title": p.title, "url": p.url, "description": text,
                            "page_age": f"{p.published}T00:00:00" if p.published else None,
                            "age": p.published, "language": "en", "family_friendly": True,
                            "profile": {"name": host, "url": p.url, "long_name": host, "img": ""},
                            "meta_url": {"scheme": "https", "netloc": host, "hostname": host, "favicon": "", "path": ""}})
        answer = {"type": "search", "query": {"original": q, "more_results_available": False}}
        if results:  # a query with no web results has no "web" section
            answer["web"] = {"type": "search", "results": results, "family_friendly": True}
        return web.json_response(answer)


class Tavily(_Fake):
    """Tavily's POST /search. docs.tavily.com/documentation/api-reference/endpoint/search: Bearer
    key; query required; max_results 0-20; search_depth basic, advanced, fast or ultra-fast;
    include_domains, exclude_domains; topic general, news or finance. The answer: query, answer,
    images, results (title, url, content, score, raw_content), response_time, request_id.
    Errors (help.tavily.com/articles/8645538886-understanding-http-errors): 400, 401 "Unauthorized:
    missing or invalid API key.", 429, 432 plan limit, 433 pay-as-you-go limit; the body is
    {"detail": {"error": ...}}."""

    routes = (("POST", "/search"),)

    @staticmethod
    def error(status: int, message: str) -> web.Response:
        return web.json_response({"detail": {"error": message}}, status=status)

    async def _search(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.error(401, "Unauthorized: missing or invalid API key.")
        if self.refuse:
            status, message = self.refuse
            return self.error(status, message)
        body = self.last.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"]:
            return self.error(400, "Invalid request: query is required.")
        limit = body.get("max_results", 5)
        if not isinstance(limit, int) or not 0 <= limit <= 20:
            return self.error(400, "Invalid request: max_results must be between 0 and 20.")
        if body.get("search_depth", "basic") not in ("basic", "advanced", "fast", "ultra-fast"):
            return self.error(400, "Invalid request: search_depth must be basic, advanced, fast or ultra-fast.")
        if body.get("topic", "general") not in ("general", "news", "finance"):
            return self.error(400, "Invalid request: topic must be general, news or finance.")
        for key in ("include_domains", "exclude_domains"):
            if not all(isinstance(d, str) for d in body.get(key, [])):
                return self.error(400, f"Invalid request: {key} must be a list of strings.")
        found = self.matching(body["query"])
        hosts = lambda p: urllib.parse.urlsplit(p.url).hostname  # noqa: E731
        if body.get("include_domains"):
            found = [p for p in found if any(hosts(p).endswith(d) for d in body["include_domains"])]
        found = [p for p in found if not any(hosts(p).endswith(d) for d in body.get("exclude_domains", []))]
        results = [{"title": p.title, "url": p.url, "content": p.text, "score": round(0.9 - 0.1 * i, 2),
                    "raw_content": None} for i, p in enumerate(found[:limit])]
        return web.json_response({"query": body["query"], "follow_up_questions": None, "answer": None, "images": [],
                                  "results": results, "response_time": 0.42, "request_id": str(uuid.uuid4())})
