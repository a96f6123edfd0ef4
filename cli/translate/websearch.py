"""Anthropic's web search server tool, run by the gateway for a model that has none: the pure part.

A request carrying the tool (`web_search_20250305` or a later version) reaches the upstream with
a plain `web_search` tool in its place. `Relay` turns the upstream's events back into what
Anthropic's API streams: each call of that tool becomes a `server_tool_use` block (a `srvtoolu_`
id, the input streamed as it comes), followed by a `web_search_tool_result` block with the same
id once the search has run; the upstream rounds of one answer become one message, block indexes
in order, usage summed, with `usage.server_tool_use.web_search_requests`. Results carry no
`encrypted_content`: only Anthropic can read it, and a client only shows titles and URLs.
The searches (I/O) run in searchloop.py.

Shapes from platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool (response,
streaming, errors, domain filtering) and the anthropic SDK 2.15 types generated from the API
(error codes, ServerToolUsage), checked 2026-12-01.
"""

import dataclasses
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from freeclaude.translate.response import accumulate
from freeclaude.translate.sse import Event
from freeclaude.translate.validate import InvalidRequest

TYPE_PREFIX = "web_search_"  # web_search_20250305, _20260209, _20260318: the same tool to us
# What a web_search_tool_result_error can say (WebSearchToolResultErrorCode, anthropic SDK 2.15).
ERROR_CODES = ("invalid_tool_input", "unavailable", "max_uses_exceeded", "too_many_requests", "query_too_long",
               "request_too_large")
# Upstream rounds per client request: a model that keeps searching past max_uses is stopped with
# `pause_turn`, Anthropic's "the turn was paused, send it back to go on".
MAX_ROUNDS = 10

DESCRIPTION = ("Search the web for current information. Returns the title, URL and an excerpt of each result. "
               "Use it for anything recent or past your knowledge; cite the URLs you use.")
SCHEMA = {"type": "object", "properties": {"query": {"type": "string", "description": "The search query"}},
          "required": ["query"]}


@dataclasses.dataclass(frozen=True)
class Hit:
    title: str
    url: str
    snippet: str = ""
    page_age: str | None = None


@dataclasses.dataclass(frozen=True)
class Tool:
    """The server tool as the client declared it."""

    name: str
    max_uses: int | None = None
    allowed: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    country: str | None = None  # user_location.country, where a backend can use it


class SearchError(Exception):
    """A search that failed: `code` is what the client sees, the message what the model reads."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code  # one of ERROR_CODES
        super().__init__(message)


def find(body: Mapping[str, Any]) -> Tool | None:
    """The web search server tool of a request, if it carries one."""
    for i, t in enumerate(body.get("tools") or ()):
        if not str(t.get("type") or "").startswith(TYPE_PREFIX):
            continue
        allowed, blocked = _domains(t, "allowed_domains", i), _domains(t, "blocked_domains", i)
        if allowed and blocked:
            raise InvalidRequest(f"tools.{i}: use either allowed_domains or blocked_domains, not both")
        uses = t.get("max_uses")
        location = t.get("user_location") if isinstance(t.get("user_location"), dict) else {}
        country = location.get("country")
        return Tool(name=t["name"], max_uses=uses if isinstance(uses, int) and not isinstance(uses, bool) and uses > 0
                    else None, allowed=allowed, blocked=blocked, country=country if isinstance(country, str) else None)
    return None


def _domains(tool: Mapping[str, Any], key: str, i: int) -> tuple[str, ...]:
    value = tool.get(key) or []
    if not isinstance(value, list) or not all(isinstance(d, str) and d for d in value):
        raise InvalidRequest(f"tools.{i}.{key}: must be a list of domains")
    return tuple(value)


# ---------------------------------------------------------------- the upstream's side


def for_upstream(body: Mapping[str, Any], tool: Tool) -> dict[str, Any]:
    """The request as the upstream gets it: the server tool as a plain tool of the same name,
    earlier searches in the history as calls and results, and always streamed."""
    tools = [{"name": tool.name, "description": DESCRIPTION, "input_schema": SCHEMA}
             if str(t.get("type") or "").startswith(TYPE_PREFIX) else t for t in body["tools"]]
    return dict(body, tools=tools, messages=_history(body["messages"], tool.name), stream=True)


def continuation(body: Mapping[str, Any], content: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The next round's request: this round's answer and the results of its searches appended. A
    tool_choice that forced a call forced the first one only (as Anthropic's does)."""
    out = dict(body, messages=[*body["messages"], {"role": "assistant", "content": content},
                               {"role": "user", "content": results}])
    tc = body.get("tool_choice") or {}
    if tc.get("type") in ("any", "tool"):
        out["tool_choice"] = {k: v for k, v in tc.items() if k == "disable_parallel_tool_use"} | {"type": "auto"}
    return out


def _history(messages: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Earlier searches (server_tool_use, web_search_tool_result in an assistant turn) as the
    tool_use / tool_result pairs a model without server tools understands."""
    out: list[dict[str, Any]] = []
    for m in messages:
        content = m.get("content")
        if m["role"] != "assistant" or not isinstance(content, list) or not any(
                b.get("type") == "web_search_tool_result" for b in content):
            _append(out, m)
            continue
        blocks: list[dict[str, Any]] = []
        for b in content:
            kind = b.get("type")
            if kind == "server_tool_use" and b.get("name") == name:
                blocks.append({"type": "tool_use", "id": b["id"], "name": name, "input": b.get("input") or {}})
            elif kind == "web_search_tool_result":
                if blocks and blocks[-1].get("id") == b.get("tool_use_id"):
                    out.append({"role": "assistant", "content": blocks})
                    out.append({"role": "user", "content": [_past_result(b)]})
                    blocks = []
            else:
                blocks.append(b)
        if blocks:
            _append(out, {"role": "assistant", "content": blocks})
    return out


def _past_result(block: dict[str, Any]) -> dict[str, Any]:
    content = block.get("content")
    if not isinstance(content, list):
        code = content.get("error_code") if isinstance(content, dict) else None
        return {"type": "tool_result", "tool_use_id": block["tool_use_id"], "is_error": True,
                "content": f"The web search failed ({code or 'unavailable'})."}
    hits = [Hit(str(r.get("title") or ""), str(r.get("url") or ""), page_age=r.get("page_age"))
            for r in content if isinstance(r, dict)]
    return {"type": "tool_result", "tool_use_id": block["tool_use_id"], "content": result_text("", hits)}


def _append(out: list[dict[str, Any]], m: dict[str, Any]) -> None:
    """Adjacent user turns become one (a split assistant turn leaves one before the next)."""
    if out and out[-1]["role"] == "user" == m["role"]:
        out[-1] = dict(out[-1], content=_blocks(out[-1]["content"]) + _blocks(m.get("content")))
        return
    out.append(m)


def _blocks(content: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or ())


# ---------------------------------------------------------------- searches


def query_of(tool: Tool, call_input: object, used: int) -> str:
    """The query a call asks for; SearchError when it cannot run (`used`: calls before it)."""
    if tool.max_uses is not None and used >= tool.max_uses:
        raise SearchError("max_uses_exceeded", f"the web search tool may be used {tool.max_uses} time(s) per "
                                               "request and that is used up: answer with what the searches found")
    query = call_input.get("query") if isinstance(call_input, dict) else None
    if not isinstance(query, str) or not query.strip():
        raise SearchError("invalid_tool_input", 'the call needs a non-empty "query" string')
    _rules(tool.allowed + tool.blocked)
    return query.strip()


def kept(tool: Tool, hits: list[Hit], limit: int) -> list[Hit]:
    """The hits allowed_domains and blocked_domains let through, each URL once, at most `limit`
    (the filters as query_of let them through)."""
    allowed, blocked = _rules(tool.allowed), _rules(tool.blocked)
    out: list[Hit] = []
    seen: set[str] = set()
    for h in hits:
        if h.url in seen or not h.url.startswith(("http://", "https://")):
            continue
        if allowed and not any(_matches(rule, h.url) for rule in allowed):
            continue
        if any(_matches(rule, h.url) for rule in blocked):
            continue
        seen.add(h.url)
        out.append(h)
        if len(out) == limit:
            break
    return out


_Rule = tuple[str, re.Pattern[str] | None]  # a host, and a path pattern


def _rules(domains: tuple[str, ...]) -> list[_Rule]:
    """Domain filters as rules; SearchError for one Anthropic's rules refuse."""
    rules: list[_Rule] = []
    for domain in domains:
        rule = _domain_rule(domain)
        if rule is None:
            raise SearchError("invalid_tool_input", f"{domain!r} is not a domain filter the tool takes")
        rules.append(rule)
    return rules


def _domain_rule(entry: str) -> _Rule | None:
    """A domain filter as (host, path pattern); None when Anthropic's rules refuse it: no scheme
    needed, subdomains included, a path matches what lies below it, one `*` only and only in
    the path."""
    entry = re.sub(r"^[a-z]+://", "", entry.strip().lower())
    host, _, path = entry.partition("/")
    if not host or "*" in host or entry.count("*") > 1:
        return None
    if not path:
        return host, None
    pattern = re.escape("/" + path.rstrip("/")).replace(r"\*", "[^?#]*")
    return host, re.compile(pattern + ("" if path.endswith("*") else "(?:/|$)"))


def _matches(rule: _Rule, url: str) -> bool:
    host, path = rule
    parts = urllib.parse.urlsplit(url)
    name = (parts.hostname or "").lower()
    if name != host and not name.endswith("." + host):
        return False
    return path is None or bool(path.match(parts.path or "/"))


def result_text(query: str, hits: list[Hit]) -> str:
    """What the model reads as a search's result."""
    about = f' for "{query}"' if query else ""
    if not hits:
        return f"The web search{about} found no results."
    parts = [f"Web search results{about}:"]
    for i, h in enumerate(hits, 1):
        lines = [f"[{i}] {h.title or h.url}", f"URL: {h.url}"]
        if h.page_age:
            lines.append(f"Published: {h.page_age}")
        if h.snippet:
            lines.append(h.snippet)
        parts.append("\n".join(lines))
    parts.append("Cite the pages you use by their URLs.")
    return "\n\n".join(parts)


def error_text(error: SearchError) -> str:
    return f"The web search failed ({error.code}): {error}"


# ---------------------------------------------------------------- the client's side


@dataclasses.dataclass
class Call:
    """A search call as it streams: the upstream's tool_use id, ours, the input so far."""

    upstream_id: str
    id: str
    parts: list[str] = dataclasses.field(default_factory=list)

    def input(self) -> Any:
        try:
            return json.loads("".join(self.parts) or "{}")
        except ValueError:
            return None


def new_id() -> str:
    return "srvtoolu_" + uuid.uuid4().hex[:24]


class Relay:
    """Feed each round's upstream events, one at a time; get the client's events back. After a
    search call closes, `waiting` holds it until `resolve` gets its result."""

    def __init__(self, tool: Tool) -> None:
        self.tool = tool
        self.started = False
        self.used = 0  # search calls so far (max_uses counts them all)
        self.searches = 0  # searches that ran: what Anthropic bills, and the ledger counts
        self.waiting: list[Call] = []
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self._next = 0  # the client's next block index
        self._new_round()

    def _new_round(self) -> None:
        self._index: dict[int, int] = {}  # upstream index -> client index
        self._calls: dict[int, Call] = {}  # upstream index -> search call
        self._events: list[Event] = []  # the round as the upstream sent it: the next round's history
        self._results: list[dict[str, Any]] = []  # tool_result blocks for the next round
        self._client_calls = 0

    def feed(self, name: str, data: dict[str, Any]) -> list[Event]:
        if name in ("ping", "message_stop"):
            return []
        if name == "error":
            return [(name, data)]
        if name == "message_start":
            self._events.append((name, data))
            if self.started:
                return []
            self.started = True
            return [(name, data)]
        if name == "message_delta":
            self._events.append((name, data))
            delta = data.get("delta") or {}
            self.stop_reason, self.stop_sequence = delta.get("stop_reason"), delta.get("stop_sequence")
            return []
        # Block events are the upstream's own (a Messages upstream's are passed on as they came):
        # one that names no block it opened has nothing to show, and is dropped.
        index = data.get("index")
        if type(index) is not int:
            return []
        if name == "content_block_start":
            block = data.get("content_block")
            if not isinstance(block, dict):
                return []
            self._events.append((name, data))
            if block.get("type") == "tool_use" and block.get("name") == self.tool.name:
                self._calls[index] = Call(block["id"], new_id())
                block = {"type": "server_tool_use", "id": self._calls[index].id, "name": self.tool.name, "input": {}}
            elif block.get("type") == "tool_use":
                self._client_calls += 1
            self._index[index] = self._next
            self._next += 1
            return [(name, dict(data, index=self._index[index], content_block=block))]
        if index not in self._index:
            return []
        self._events.append((name, data))
        out = [(name, dict(data, index=self._index[index]))]
        call = self._calls.get(index)
        if call and name == "content_block_delta":
            call.parts.append((data.get("delta") or {}).get("partial_json") or "")
        elif call and name == "content_block_stop":
            self.waiting.append(call)
        return out

    def resolve(self, call: Call, hits: list[Hit] | SearchError, query: str = "") -> list[Event]:
        """The result block of a search that ran (its hits) or failed."""
        self.waiting.remove(call)
        if isinstance(hits, SearchError):
            content: list[dict[str, Any]] | dict[str, Any] = {"type": "web_search_tool_result_error", "error_code": hits.code}
            self._results.append({"type": "tool_result", "tool_use_id": call.upstream_id, "content": error_text(hits),
                                  "is_error": True})
        else:
            self.searches += 1
            content = [{"type": "web_search_result", "title": h.title, "url": h.url, "page_age": h.page_age} for h in hits]
            self._results.append({"type": "tool_result", "tool_use_id": call.upstream_id,
                                  "content": result_text(query, hits)})
        index, self._next = self._next, self._next + 1
        block = {"type": "web_search_tool_result", "tool_use_id": call.id, "content": content}
        return [("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}),
                ("content_block_stop", {"type": "content_block_stop", "index": index})]

    def next_body(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """The next round's request when the model stopped only to have its searches run; None
        when its answer is complete (or waits for the client's own tools)."""
        if not self._results or self._client_calls or self.stop_reason != "tool_use":
            return None
        content = accumulate(self._events).get("content") or []
        nxt = continuation(body, content, self._results)
        self._new_round()
        return nxt

    def finish(self, usage: Mapping[str, Any], paused: bool = False) -> list[Event]:
        """The message's end: the last round's stop reason (`pause_turn` when rounds ran out with
        searches pending), the usage of every round, the searches that ran."""
        stop = "pause_turn" if paused else self.stop_reason or "end_turn"
        usage = dict(usage, server_tool_use={"web_search_requests": self.searches, "web_fetch_requests": 0})
        delta = {"stop_reason": stop, "stop_sequence": self.stop_sequence if stop == "stop_sequence" else None}
        return [("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}),
                ("message_stop", {"type": "message_stop"})]
