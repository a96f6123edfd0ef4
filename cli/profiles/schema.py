"""Profiles: which provider and model serve each tier (parsed and checked here; stored by store.py).

A profile file holds `lean` (how much of Claude Code's prompt reaches the model: lean.py),
`[providers.NAME]` tables (kind, base_url, api_key_env, limits, quirks, and
`[providers.NAME.models."MODEL"]` with window, output cap and prices), a `[tiers]` table mapping
opus, sonnet, haiku, fable, default and vision to chains of "provider:model", tried in order, and
optionally a `[search]` table: the backend that runs web searches.
"""

import dataclasses
import functools
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeGuard

from freeclaude.claude.lean import LEVELS
from freeclaude.errors import FreeclaudeError
from freeclaude.profiles.providers import (
    AUTHS,
    KINDS,
    LIMIT_NAMES,
    LOCAL_TIMEOUTS,
    SEARCH_KINDS,
    SEARCH_URLS,
    TEXT_CALL_FORMATS,
    Limits,
    Model,
    Provider,
    Quirks,
    Search,
)
from freeclaude.profiles.tiers import TIERS

# default: for model names of no tier; vision: describes images for models that cannot see them
CHAIN_TIERS = TIERS + ("default", "vision")
# A tier left out borrows a chain: Fable is Claude Code's strongest, so it takes opus's first.
_BORROW = {"fable": ("fable", "opus", "default", "sonnet", "haiku")}
_BORROW_ANY = ("default", "sonnet", "opus", "haiku")
# How the gateway's /v1/models names each model: Claude Code's /model keeps only the ids that
# say claude or anthropic (2.1.330), and a model picked there is asked for by this id.
MODEL_ID_PREFIX = "freeclaude/"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# The settings a profile may hold are the dataclasses' fields (limits flattened into the table).
_PROVIDER_KEYS = ({f.name for f in dataclasses.fields(Provider)} - {"name", "limits"}) | set(LIMIT_NAMES) | {"models"}
_MODEL_KEYS = ({f.name for f in dataclasses.fields(Model)} - {"name", "provider", "limits"}) | set(LIMIT_NAMES)
_SEARCH_KEYS = {f.name for f in dataclasses.fields(Search)}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The quirks that are one of a few words; the first is the default.
_QUIRK_VALUES = {"max_tokens_field": ("max_tokens", "max_completion_tokens"), "requests_header": ("rpm", "rpd"),
                 "limits_refill": ("window", "continuous")}
# A profile's name is its file's: well inside every file system's 255 bytes, with room for the
# temporary name a file is written under first.
MAX_NAME = 64
# How a check says what is wrong: (setting, what) -> never returns
Fail = Callable[[str, str], NoReturn]


class ProfileError(FreeclaudeError):
    pass


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    providers: dict[str, Provider]
    tiers: dict[str, tuple[Model, ...]]
    data: dict  # the TOML it was read from, for show and save
    description: str = ""
    search: Search | None = None  # the web search backend; None: searches answer that there is none
    lean: str = "off"  # a lean.LEVELS

    def chain(self, tier: str) -> tuple[Model, ...]:
        """The tier's chain; a tier left out uses default, then the others in order (fable: opus
        first). The vision chain is never borrowed: without one, images are not described."""
        if tier == "vision":
            return self.tiers.get("vision", ())
        for t in _BORROW.get(tier) or (tier, *_BORROW_ANY):
            if self.tiers.get(t):
                return self.tiers[t]
        return ()

    def provider(self, model: Model) -> Provider:
        return self.providers[model.provider]

    def models(self) -> list[Model]:
        """Every model some tier uses, each once, in tier order."""
        return list(self._models)

    @functools.cached_property
    def _models(self) -> tuple[Model, ...]:
        seen: dict[str, Model] = {}
        for chain in self.tiers.values():
            for m in chain:
                seen.setdefault(m.ref, m)
        return tuple(seen.values())

    @functools.cached_property
    def _by_name(self) -> dict[str, Model]:
        names = {m.ref: m for m in self._models}  # first: "provider:model" wins over a bare name like it
        for m in self._models:
            names.setdefault(m.name, m)
        return names

    def find(self, name: str) -> Model | None:
        """A model asked for by name rather than by tier: "provider:model", the same as /model
        lists it (MODEL_ID_PREFIX first), or a bare upstream name. Asked on every request."""
        return self._by_name.get(name.removeprefix(MODEL_ID_PREFIX))

    def key_vars(self) -> list[str]:
        found = {p.api_key_env for p in self.used_providers() if p.api_key_env}
        if self.search and self.search.api_key_env:
            found.add(self.search.api_key_env)
        return sorted(found)

    def used_providers(self) -> list[Provider]:
        names = dict.fromkeys(m.provider for m in self.models())
        return [self.providers[n] for n in names]


# ---------------------------------------------------------------- parsing


def parse(data: dict[str, Any], name: str, source: str) -> Profile:
    """A Profile from TOML data; `source` (a path or template name) prefixes every error."""

    def fail(where: str, what: str) -> NoReturn:
        raise ProfileError(f"{source}: {where} {what}")

    unknown = set(data) - {"description", "lean", "providers", "tiers", "search"}
    if unknown:
        fail(sorted(unknown)[0], "is not a profile setting (expected description, lean, providers, tiers, search)")
    if data.get("lean", "off") not in LEVELS:
        fail("lean", f"must be one of {', '.join(LEVELS)}")
    raw_providers = data.get("providers")
    if not isinstance(raw_providers, dict) or not raw_providers:
        fail("providers", "must have at least one [providers.NAME] table")
    providers: dict[str, Provider] = {}
    models: dict[tuple[str, str], Model] = {}
    for pname, p in raw_providers.items():
        where = f"providers.{pname}"
        if not _NAME.match(pname) or ":" in pname:
            fail(where, "is not a valid provider name (letters, digits, - _ .)")
        if not isinstance(p, dict):
            fail(where, "must be a table")
        extra = set(p) - _PROVIDER_KEYS
        if extra:
            fail(f"{where}.{sorted(extra)[0]}", "is not a provider setting")
        if p.get("kind") not in KINDS:
            fail(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
        url = p.get("base_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            fail(f"{where}.base_url", "must be an http:// or https:// URL")
        key_env = p.get("api_key_env")
        if key_env is not None and not (isinstance(key_env, str) and _ENV_NAME.match(key_env)):
            fail(f"{where}.api_key_env", "must be the name of an environment variable")
        if p.get("auth") is not None and p["auth"] not in AUTHS:
            fail(f"{where}.auth", f"must be one of {', '.join(AUTHS)}")
        if p.get("concurrency") is not None and not _positive_int(p["concurrency"]):
            fail(f"{where}.concurrency", "must be a positive integer")
        timeouts = LOCAL_TIMEOUTS if Provider.is_local(url) else {"timeout": Provider.timeout,
                                                                  "idle_timeout": Provider.idle_timeout}
        for setting in timeouts:
            if p.get(setting) is not None and not _positive_number(p[setting]):
                fail(f"{where}.{setting}", "must be a positive number of seconds")
        headers = p.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            fail(f"{where}.headers", "must be a table of strings")
        # Anthropic's own API runs its server tools; any other upstream gets the gateway's search.
        own = p["kind"] == "anthropic" and url.startswith("https://api.anthropic.com")
        quirks = _quirks(Quirks(server_web_search=own), p.get("quirks"), f"{where}.quirks", fail, p["kind"])
        provider = Provider(
            name=pname, kind=p["kind"], base_url=url.rstrip("/"), api_key_env=key_env, auth=p.get("auth") or "",
            concurrency=p.get("concurrency"), headers=dict(headers),
            **{setting: float(p.get(setting) or default) for setting, default in timeouts.items()},
            limits=_limits(p, where, fail), extra_body=_extra_body(p, where, fail), quirks=quirks,
        )
        providers[pname] = provider
        raw_models = p.get("models") or {}
        if not isinstance(raw_models, dict):
            fail(f"{where}.models", "must be a table of models")
        for mname, m in raw_models.items():
            models[(pname, mname)] = _model(provider, mname, m, f'{where}.models."{mname}"', fail)
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, dict) or not any(raw_tiers.values()):
        fail("tiers", "must map at least one of opus, sonnet, haiku, fable, default to models")
    tiers: dict[str, tuple[Model, ...]] = {}
    for tier, chain in raw_tiers.items():
        if tier not in CHAIN_TIERS:
            fail(f"tiers.{tier}", f"is not a tier (expected {', '.join(CHAIN_TIERS)})")
        if isinstance(chain, str):
            chain = [chain]
        if not isinstance(chain, list) or not all(isinstance(e, str) and e for e in chain):
            fail(f"tiers.{tier}", 'must be a list of "provider:model" strings')
        tiers[tier] = tuple(_resolve(e, providers, models, f"tiers.{tier}", fail) for e in chain)
        if tier == "vision" and any(not m.quirks.images for m in tiers[tier]):
            fail("tiers.vision", "must name models that take images (a model there has images = false)")
    return Profile(name=name, providers=providers, tiers=tiers, data=data, description=str(data.get("description", "")),
                   search=_search(data.get("search"), fail), lean=data.get("lean", "off"))


def _search(raw: object, fail: Fail) -> Search | None:
    """The [search] table: a kind, where the service lives, the variable holding its key."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail("search", "must be a table")
    extra = set(raw) - _SEARCH_KEYS
    if extra:
        fail(f"search.{sorted(extra)[0]}", f"is not a search setting ({', '.join(sorted(_SEARCH_KEYS))})")
    kind, url, key_env = raw.get("kind"), raw.get("base_url", ""), raw.get("api_key_env")
    if kind not in SEARCH_KINDS:
        fail("search.kind", f"must be one of {', '.join(SEARCH_KINDS)}")
    if not (isinstance(url, str) and (url.startswith(("http://", "https://")) or not url and kind in SEARCH_URLS)):
        fail("search.base_url", "must be an http:// or https:// URL" + ("" if url else f" ({kind} is self-hosted)"))
    if kind == "searxng" and key_env is not None:
        fail("search.api_key_env", "does not apply: SearXNG takes no key")
    if kind != "searxng" and not (isinstance(key_env, str) and _ENV_NAME.match(key_env)):
        fail("search.api_key_env", f"must name the environment variable holding the {kind} key")
    if "max_results" in raw and not (_positive_int(raw["max_results"]) and raw["max_results"] <= 20):
        fail("search.max_results", "must be an integer from 1 to 20")
    if "timeout" in raw and not _positive_number(raw["timeout"]):
        fail("search.timeout", "must be a positive number of seconds")
    return Search(kind=kind, base_url=url.rstrip("/"), api_key_env=key_env,
                  max_results=raw.get("max_results", Search.max_results), timeout=float(raw.get("timeout", Search.timeout)))


def _positive_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v: object) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _positive_number(v: object) -> bool:
    return _number(v) and v > 0


def _quirks(base: Quirks, raw: object, where: str, fail: Fail, kind: str) -> Quirks:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        fail(where, "must be a table")
    for key, value in raw.items():
        if key not in Quirks.names():
            fail(f"{where}.{key}", f"is not a known quirk ({', '.join(sorted(Quirks.names()))})")
        expected = type(getattr(base, key))
        if type(value) is not expected:
            fail(f"{where}.{key}", f"must be a {expected.__name__}")
    unknown = set(raw.get("text_call_formats_off", "").split()) - set(TEXT_CALL_FORMATS)
    if unknown:
        fail(f"{where}.text_call_formats_off", f"names no format {sorted(unknown)[0]!r} ({', '.join(TEXT_CALL_FORMATS)})")
    for key, allowed in _QUIRK_VALUES.items():
        if raw.get(key, allowed[0]) not in allowed:
            fail(f"{where}.{key}", f"must be {' or '.join(allowed)}")
    if raw.get("server_web_search") and kind != "anthropic":
        fail(f"{where}.server_web_search", "applies to anthropic providers only")
    return dataclasses.replace(base, **raw)


def _model(provider: Provider, name: str, m: object, where: str, fail: Fail) -> Model:
    if not isinstance(m, dict):
        fail(where, "must be a table")
    extra = set(m) - _MODEL_KEYS
    if extra:
        fail(f"{where}.{sorted(extra)[0]}", f"is not a model setting ({', '.join(sorted(_MODEL_KEYS))})")
    for key in ("context_window", "max_output_tokens"):
        if key in m and not _positive_int(m[key]):
            fail(f"{where}.{key}", "must be a positive integer")
    for key in ("input_price", "output_price", "cache_read_price"):
        if key in m and not (_number(m[key]) and m[key] >= 0):
            fail(f"{where}.{key}", "must be a number of USD per million tokens, 0 or more")
    if "temperature" in m:
        if provider.kind != "openai":
            fail(f"{where}.temperature", "applies to openai providers only (a passthrough sends the client's own)")
        if not (_number(m["temperature"]) and 0 <= m["temperature"] <= 2):
            fail(f"{where}.temperature", "must be a number from 0 to 2")
    if "extra_body" in m and provider.kind != "openai":
        fail(f"{where}.extra_body", "applies to openai providers only")
    settings = {k: v for k, v in m.items() if k not in ("quirks", "extra_body", *LIMIT_NAMES)}
    for key in ("input_price", "output_price", "cache_read_price", "temperature"):
        if key in settings:
            settings[key] = float(settings[key])
    return Model(name=name, provider=provider.name, limits=_limits(m, where, fail),
                 extra_body={**provider.extra_body, **_extra_body(m, where, fail)},
                 quirks=_quirks(provider.quirks, m.get("quirks"), f"{where}.quirks", fail, provider.kind), **settings)


def _limits(table: dict[str, Any], where: str, fail: Fail) -> Limits:
    for key in LIMIT_NAMES:
        if table.get(key) is not None and not _positive_int(table[key]):
            fail(f"{where}.{key}", "must be a positive integer")
    return Limits(**{k: table[k] for k in LIMIT_NAMES if table.get(k) is not None})


def _extra_body(table: dict[str, Any], where: str, fail: Fail) -> dict[str, Any]:
    extra = table.get("extra_body") or {}
    if not isinstance(extra, dict):
        fail(f"{where}.extra_body", "must be a table of request fields")
    return extra


def _resolve(entry: str, providers: dict[str, Provider], models: dict[tuple[str, str], Model], where: str,
             fail: Fail) -> Model:
    """ "provider:model", or a bare model name when only one provider can mean it."""
    head, sep, tail = entry.partition(":")
    if sep and head in providers:
        pname, mname = head, tail
    else:
        mname = entry
        owners = [p for (p, m) in models if m == mname] or (list(providers) if len(providers) == 1 else [])
        if len(owners) != 1:
            fail(where, f'entry "{entry}" must name its provider, as "provider:{entry}"')
        pname = owners[0]
    p = providers[pname]
    return models.get((pname, mname)) or Model(name=mname, provider=pname, extra_body=p.extra_body, quirks=p.quirks)
