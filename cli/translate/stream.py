"""OpenAI Chat Completions stream chunks -> Anthropic Messages stream events.

A small state machine: one content block open at a time, indexes in order, tool calls keyed
by index, else id, else position, whatever order or shape the upstream sends them in.
"""

import json
import uuid
from typing import Any, Literal, TypedDict

from freeclaude.translate import state
from freeclaude.translate.callparse import Item, Tools, glm_name, obj
from freeclaude.translate.jsonrepair import Args
from freeclaude.translate.reasoning import details_text, merged_details, parts_text
from freeclaude.translate.sse import Event
from freeclaude.translate.textcalls import Scanner
from freeclaude.translate.tools import ToolNames, tool_id

_PLAIN = frozenset(("content", "role"))  # delta keys that need no look at reasoning or tool calls

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]
_STOP: dict[str, StopReason] = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
         "content_filter": "refusal", "end_turn": "end_turn", "max_tokens": "max_tokens", "eos": "end_turn"}


class Usage(TypedDict):
    """An answer's usage as Anthropic reports it."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class UpstreamStreamError(Exception):
    """The upstream reported an error inside a 200 stream."""

    def __init__(self, error: object) -> None:
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        super().__init__(str(self.error.get("message") or self.error))


class IncompleteStream(Exception):
    """The stream ended without a finish reason or [DONE]: the answer was cut off."""


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex[:24]


class _Call:
    __slots__ = ("raw_id", "name", "args", "pre", "opened", "closed", "signature", "named_args")

    def __init__(self, raw_id: str) -> None:
        self.raw_id = raw_id
        self.signature = ""  # Gemini's thought_signature, carried in the tool_use id
        self.name = ""
        self.args = Args()
        self.pre: list[str] = []  # fragments that came before the name
        self.opened = self.closed = False
        # arguments a broken name held (GLM markup in it): the call waits for its own fragments
        # and goes out whole, when the next call starts or the stream ends
        self.named_args: dict[str, Any] | None = None


class StreamTranslator:
    """Feed parsed upstream chunks; get Anthropic (event, data) pairs back."""

    def __init__(
        self,
        *,
        model: str,
        names: ToolNames | None = None,
        input_estimate: int = 0,
        tools: dict[str, dict[str, Any]] | None = None,
        show_thinking: bool = True,
        text_tool_calls: bool = True,
        text_call_formats_off: frozenset[str] = frozenset(),
        message_id: str | None = None,
        provider: str = "",
    ) -> None:
        self.model = model
        self.provider = provider  # named in the state a thinking block carries
        self.names = names or ToolNames()
        self.message_id = message_id or new_message_id()
        self.show_thinking = show_thinking
        self.scanner = Scanner(tools, text_call_formats_off) if text_tool_calls else None
        # the offered tools, to mend structured calls whose name came broken
        self._offered = Tools(tools) if tools else None
        self.started = False
        self.finish_reason: str | None = None
        self.stop_sequence: str | None = None
        self.input_tokens = input_estimate
        self.output_tokens = 0
        self.cache_read = 0
        self.usage_reported = False
        self.tool_calls = 0
        self.repaired_calls = 0
        self.invalid_calls = 0
        self.anomalies: list[str] = []
        self._chars = 0  # output characters and deltas, for an estimate when the upstream reports no usage
        self._deltas = 0
        self._block: Literal["text", "thinking", "tool"] | None = None  # the open block's kind
        self._next = 0
        self._calls: list[_Call] = []
        self._by_index: dict[int, _Call] = {}
        self._by_id: dict[str, _Call] = {}
        self._current: _Call | None = None
        self._ids: set[str] = set()
        self._reasoning: list[str] = []  # the open thinking block's text and details, to seal
        self._details: list[dict[str, Any]] = []

    # -------------------------------------------------------------- input

    def feed(self, chunk: object) -> list[Event]:
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            raise UpstreamStreamError(chunk["error"])
        ev: list[Event] = []
        usage = chunk.get("usage")
        if usage:
            self._usage(usage)
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            # A chunk may carry both: the delta is new, the message repeats what came before.
            delta = choice["delta"] if "delta" in choice else choice.get("message")
            if not isinstance(delta, dict):
                continue
            content = delta.get("content")
            if type(content) is str and delta.keys() <= _PLAIN:  # most chunks: a piece of text, nothing else
                if content:
                    self._content(content, ev)
            else:
                self._fields(delta, ev)
            reason = choice.get("finish_reason")
            if reason:
                if reason == "error":
                    raise UpstreamStreamError(chunk.get("error") or {"message": "the upstream ended the answer with an error"})
                self.finish_reason = reason
                if isinstance(choice.get("stop_reason"), str):  # vLLM names the stop string it matched
                    self.stop_sequence = choice["stop_reason"]
        return ev

    def feed_text(self, text: str) -> list[Event]:
        """What feed() gives for a chunk whose one choice's delta is {"content": text} and
        nothing else (repeats.py finds those without parsing them)."""
        ev: list[Event] = []
        if text:
            self._content(text, ev)
        return ev

    def _fields(self, delta: dict[str, Any], ev: list[Event]) -> None:
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        details = delta.get("reasoning_details")
        details = details if isinstance(details, list) else None
        if not reasoning and details:
            reasoning = details_text(details)
        if (reasoning and isinstance(reasoning, str)) or details:
            self._thinking(reasoning if isinstance(reasoning, str) else "", ev, details)
        content = delta.get("content")
        if isinstance(content, str):
            if content:
                self._content(content, ev)
        elif isinstance(content, list):
            self._parts(content, ev)
        calls = delta.get("tool_calls")
        if calls and isinstance(calls, list):
            for tc in calls:
                if isinstance(tc, dict):
                    self._tool_delta(tc, ev)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):  # the pre-tools form: one call, no id
            self._tool_delta({"function": legacy}, ev)

    def finish(self, *, done: bool) -> list[Event]:
        """End of stream. `done` is True when [DONE] arrived; without it or a finish reason, the
        answer was cut off and must not be closed as if the model had finished."""
        if self.finish_reason is None and not done:
            raise IncompleteStream("the upstream closed the stream before the answer finished")
        if not (self.started or self.finish_reason or self.usage_reported):
            # [DONE] after lines with no choice, delta or usage in them ({"weird": true}, [1,2,3])
            raise IncompleteStream("the upstream's stream held no chunk of an answer")
        ev: list[Event] = []
        if self.scanner:
            for item in self.scanner.flush():
                self._item(item, ev)
        self._emit_named(ev)
        truncated = self.finish_reason == "length"
        self._close(ev, truncated=truncated)
        if not self.started:
            self._start(ev)
        stop: StopReason
        if self.tool_calls and not truncated:
            stop = "tool_use"
        elif self.stop_sequence and self.finish_reason == "stop":
            stop = "stop_sequence"
        else:  # "tool_calls" without a call that reached us is no tool use
            stop = _STOP.get(self.finish_reason or "stop", "end_turn")
            if stop == "tool_use":
                stop = "end_turn"
        ev.append((
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": self.stop_sequence if stop == "stop_sequence" else None},
                "usage": self.usage(),
            },
        ))
        ev.append(("message_stop", {"type": "message_stop"}))
        return ev

    @property
    def billed_output(self) -> int:
        """Output tokens as reported, else estimated from what was sent: about 4 characters a
        token, or one per delta where the upstream streams a token at a time (llama.cpp)."""
        return self.output_tokens if self.usage_reported else max(self._deltas, (self._chars + 3) // 4)

    def usage(self) -> Usage:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.billed_output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read,
        }

    # -------------------------------------------------------------- pieces

    def _usage(self, u: dict[str, Any]) -> None:
        prompt = u.get("prompt_tokens") or u.get("input_tokens") or 0
        details = u.get("prompt_tokens_details") or {}
        cached = (details.get("cached_tokens") if isinstance(details, dict) else 0) or u.get("prompt_cache_hit_tokens") or 0
        if not isinstance(prompt, int) or not isinstance(cached, int):
            return
        self.input_tokens = max(prompt - cached, 0)
        self.cache_read = cached
        completion = u.get("completion_tokens") or u.get("output_tokens") or 0
        self.output_tokens = completion if isinstance(completion, int) else 0
        self.usage_reported = True

    def _start(self, ev: list[Event]) -> None:
        self.started = True
        ev.append((
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": self.message_id, "type": "message", "role": "assistant", "model": self.model,
                    "content": [], "stop_reason": None, "stop_sequence": None,
                    "usage": {"input_tokens": self.input_tokens, "output_tokens": 0,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": self.cache_read},
                },
            },
        ))

    def _open(self, kind: Literal["text", "thinking", "tool"], block: dict[str, Any], ev: list[Event]) -> None:
        self._close(ev)
        if not self.started:
            self._start(ev)
        ev.append(("content_block_start", {"type": "content_block_start", "index": self._next, "content_block": block}))
        self._block = kind
        self._next += 1

    def _delta(self, delta: dict[str, Any], ev: list[Event]) -> None:
        self._deltas += 1
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": self._next - 1, "delta": delta}))

    def _close(self, ev: list[Event], truncated: bool = False) -> None:
        kind = self._block
        if kind is None:
            return
        if kind == "thinking":
            signature = state.seal(self.provider, "".join(self._reasoning), merged_details(self._details))
            self._reasoning, self._details = [], []
            self._delta({"type": "signature_delta", "signature": signature}, ev)
        elif kind == "tool":
            call = self._current
            assert call is not None, "a tool block is open only while its call is current"
            args = call.args
            if truncated:
                args.cut("the answer reached max_tokens inside the arguments")
            rest = args.finish()
            if rest:
                self._chars += len(rest)
                self._delta({"type": "input_json_delta", "partial_json": rest}, ev)
            if args.broken:
                self.invalid_calls += 1
            elif args.repaired:
                self.repaired_calls += 1
            call.closed = True
            self._current = None
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": self._next - 1}))
        self._block = None

    def _text(self, text: str, ev: list[Event]) -> None:
        if self._block != "text":
            self._open("text", {"type": "text", "text": ""}, ev)
        self._chars += len(text)
        self._delta({"type": "text_delta", "text": text}, ev)

    def _thinking(self, text: str, ev: list[Event], details: list[Any] | None = None) -> None:
        if self._block != "thinking":
            self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, ev)
        if details:
            self._details.extend(d for d in details if isinstance(d, dict))
        if not text:
            return
        self._chars += len(text)
        self._reasoning.append(text)
        if self.show_thinking:
            self._delta({"type": "thinking_delta", "thinking": text}, ev)

    def _parts(self, parts: list[Any], ev: list[Event]) -> None:
        """Content as a list of parts (Mistral): text parts are text, thinking parts thinking."""
        for p in parts:
            if not isinstance(p, dict):
                continue
            if p.get("type") == "text" and isinstance(p.get("text"), str) and p["text"]:
                self._content(p["text"], ev)
            elif p.get("type") == "thinking":
                inner = p.get("thinking")
                text = inner if isinstance(inner, str) else parts_text(inner)
                if text:
                    self._thinking(text, ev)

    def _content(self, text: str, ev: list[Event]) -> None:
        if self.scanner is None:
            self._text(text, ev)
            return
        for item in self.scanner.feed(text):
            self._item(item, ev)

    def _item(self, item: Item, ev: list[Event]) -> None:
        if item[0] == "text":
            self._text(item[1], ev)
        elif item[0] == "think":
            self._thinking(item[1], ev)
        else:  # a call the model wrote as text
            call = _Call("")
            call.name = item[1]
            self._calls.append(call)
            self._open_call(call, ev)
            self._feed_args(call, json.dumps(item[2], ensure_ascii=False), ev)
            self._close(ev)

    def _tool_delta(self, tc: dict[str, Any], ev: list[Event]) -> None:
        fn = tc.get("function") or {}
        idx, cid = tc.get("index"), tc.get("id") or ""
        name, args = fn.get("name") or "", fn.get("arguments")
        if not isinstance(cid, str):
            cid = str(cid)
        index = idx if isinstance(idx, int) and not isinstance(idx, bool) else None
        # The id identifies a call wherever it comes; an index only when no id says otherwise.
        call = self._by_id.get(cid) if cid else None
        if call is None and index is not None:
            call = self._by_index.get(index)
            if call and cid and call.raw_id and cid != call.raw_id:
                call = None  # an index reused for a new call
        if call is None and not cid and not name and self._calls:
            call = self._calls[-1]  # a bare fragment continues the last call
        if call is None:
            call = _Call(cid)
            self._calls.append(call)
        if index is not None:
            self._by_index[index] = call
        if cid:
            call.raw_id = call.raw_id or cid
            self._by_id[cid] = call
        extra = tc.get("extra_content")
        signature = ((extra.get("google") or {}).get("thought_signature") if isinstance(extra, dict) else None)
        if isinstance(signature, str) and signature and not call.opened:
            call.signature = signature
        if name and not call.name:
            call.name = name  # some upstreams repeat the name on every chunk: assign, never append
            mended = glm_name(name, self._offered) if self._offered and "<" in name else None
            if mended:
                call.name, call.named_args = mended[1], mended[2]
        if call.closed:
            if args:
                self.anomalies.append(f"arguments for tool call {call.name} arrived after the call was closed")
            return
        if not call.opened:
            if args:
                call.pre.append(args if isinstance(args, str) else json.dumps(args))
            if call.name and call.named_args is None:
                self._open_call(call, ev)
                pre, call.pre = "".join(call.pre), []
                if pre:
                    self._feed_args(call, pre, ev)
            return
        if args:
            self._feed_args(call, args, ev)

    def _emit_named(self, ev: list[Event]) -> None:
        """Calls whose broken name held their arguments go out, those merged with their own."""
        for call in self._calls:
            if call.named_args is not None and not call.opened:
                own = obj("".join(call.pre)) if call.pre else {}
                args = {**(own if isinstance(own, dict) else {}), **call.named_args}
                call.pre, call.named_args = [], None
                self._open_call(call, ev)
                self._feed_args(call, json.dumps(args, ensure_ascii=False), ev)
                self._close(ev)

    def _open_call(self, call: _Call, ev: list[Event]) -> None:
        if call.named_args is None and self._offered is not None:
            self._emit_named(ev)
        block_id = tool_id(call.raw_id) or "toolu_" + uuid.uuid4().hex[:24]
        if block_id in self._ids:  # two blocks must never share an id, whatever the upstream reused
            block_id += "_" + uuid.uuid4().hex[:6]
        self._ids.add(block_id)
        if call.signature:
            block_id = state.with_signature(block_id, call.signature)
        block = {"type": "tool_use", "id": block_id, "name": self.names.down(call.name), "input": {}}
        self._open("tool", block, ev)
        call.opened = True
        self._current = call
        self.tool_calls += 1

    def _feed_args(self, call: _Call, fragment: object, ev: list[Event]) -> None:
        args = call.args
        out = args.feed(fragment)
        if out:
            self._chars += len(out)
            self._delta({"type": "input_json_delta", "partial_json": out}, ev)
        if args.overflow and args.overflow.lstrip()[:1] == "{":
            self._split(call, args.overflow.lstrip(), ev)

    def _split(self, call: _Call, rest: str, ev: list[Event]) -> None:
        """Arguments that are two objects run together (a server that merged two calls of one
        tool, edison7009/EchoBird#187): the second object is a second call."""
        call.args.overflow = ""
        self._close(ev)
        twin = _Call("")
        twin.name = call.name
        self._calls.append(twin)
        self._by_index = {key: twin if value is call else value for key, value in self._by_index.items()}
        self._by_id = {key: twin if value is call else value for key, value in self._by_id.items()}
        self._open_call(twin, ev)
        self._feed_args(twin, rest, ev)
