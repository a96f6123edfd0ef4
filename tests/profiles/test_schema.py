"""Profile files as parse() reads them: each mistake named by its setting, and what a valid file
means (the models a tier names, settings that merge, the timeouts a local server gets). The CLI's
side of profiles is tests/profiles/test_profiles.py."""

import copy

import pytest

from freeclaude.profiles.providers import LOCAL_TIMEOUTS, Provider
from freeclaude.profiles.schema import MODEL_ID_PREFIX, ProfileError, parse

BASE = {"providers": {"a": {"kind": "openai", "base_url": "http://h/v1", "models": {"m": {}}}}, "tiers": {"opus": ["a:m"]}}


def changed(path: str, value) -> dict:
    """BASE with the value at a dotted path ("providers.a.kind") set; None removes it."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(last)
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path, value, message", [
    ("colour", "blue", "colour is not a profile setting"),
    ("lean", "max", "lean must be one of"),
    ("providers", None, "providers must have at least one [providers.NAME] table"),
    ("providers.a:b", {"kind": "openai", "base_url": "http://h"}, "providers.a:b is not a valid provider name"),
    ("providers.b", "openai", "providers.b must be a table"),
    ("providers.a.url", "http://h", "providers.a.url is not a provider setting"),
    ("providers.a.kind", "grpc", "providers.a.kind must be one of openai, anthropic"),
    ("providers.a.api_key_env", "MY-KEY", "providers.a.api_key_env must be the name of an environment variable"),
    ("providers.a.auth", "basic", "providers.a.auth must be one of bearer, x-api-key"),
    ("providers.a.concurrency", 0, "providers.a.concurrency must be a positive integer"),
    ("providers.a.timeout", True, "providers.a.timeout must be a positive number of seconds"),
    ("providers.a.headers", {"X-A": 1}, "providers.a.headers must be a table of strings"),
    ("providers.a.quirks", {"images": "no"}, "providers.a.quirks.images must be a bool"),
    ("providers.a.quirks", {"imagez": False}, "providers.a.quirks.imagez is not a known quirk"),
    ("providers.a.quirks", {"max_tokens_field": "max_new_tokens"},
     "providers.a.quirks.max_tokens_field must be max_tokens or max_completion_tokens"),
    ("providers.a.quirks", {"text_call_formats_off": "hermes yaml"},
     "providers.a.quirks.text_call_formats_off names no format 'yaml'"),
    ("providers.a.models", ["m"], "providers.a.models must be a table of models"),
    ("providers.a.models.m", {"window": 8192}, 'providers.a.models."m".window is not a model setting'),
    ("providers.a.models.m", {"context_window": 8192.5}, 'providers.a.models."m".context_window must be a positive integer'),
    ("providers.a.models.m", {"input_price": -1}, 'providers.a.models."m".input_price must be a number of USD'),
    ("providers.a.models.m", {"rpm": 0}, 'providers.a.models."m".rpm must be a positive integer'),
    ("providers.a.models.m", {"extra_body": "x"}, 'providers.a.models."m".extra_body must be a table of request fields'),
    ("tiers", {"opus": []}, "tiers must map at least one of opus, sonnet, haiku, fable, default to models"),
    ("tiers.medium", ["a:m"], "tiers.medium is not a tier"),
    ("tiers.opus", [3], 'tiers.opus must be a list of "provider:model" strings'),
])
def test_each_mistake_names_its_setting(path, value, message):
    with pytest.raises(ProfileError) as e:
        parse(changed(path, value), "p", "/x/p.toml")
    assert str(e.value).startswith(f"/x/p.toml: {message}")


def test_a_bare_model_name_needs_its_provider_only_when_two_could_mean_it():
    data = {"providers": {"a": {"kind": "openai", "base_url": "http://a/v1", "models": {"shared": {}, "mine": {}}},
                          "b": {"kind": "openai", "base_url": "http://b/v1", "models": {"shared": {}}}},
            "tiers": {"opus": ["mine", "b:shared"], "haiku": "a:other"}}  # a lone string is a chain of one
    p = parse(data, "p", "t")
    assert [(m.provider, m.name) for m in p.chain("opus")] == [("a", "mine"), ("b", "shared")]
    assert [(m.provider, m.name) for m in p.chain("haiku")] == [("a", "other")]  # undeclared: the provider's defaults
    data["tiers"]["sonnet"] = ["shared"]
    with pytest.raises(ProfileError, match='tiers.sonnet entry "shared" must name its provider, as "provider:shared"'):
        parse(data, "p", "t")
    alone = parse({"providers": {"a": {"kind": "openai", "base_url": "http://a/v1"}}, "tiers": {"opus": ["x"]}}, "p", "t")
    assert alone.chain("opus")[0].provider == "a"


def test_a_model_asked_for_by_name():
    p = parse({"providers": {"a": {"kind": "openai", "base_url": "http://a/v1"},
                             "b": {"kind": "openai", "base_url": "http://b/v1"}},
               "tiers": {"opus": ["a:big", "b:a:big"], "haiku": ["b:small"]}}, "p", "t")
    assert p.find("b:small") is p.find(MODEL_ID_PREFIX + "b:small") is p.find("small") is p.chain("haiku")[0]
    # "a:big" is provider a's big, though provider b has a model of that very name
    assert (p.find("a:big").provider, p.find("a:big").name) == ("a", "big")
    assert (p.find("b:a:big").provider, p.find("b:a:big").name) == ("b", "a:big")
    assert p.find("nothing") is None and p.find("claude-opus-5-5") is None


def test_model_settings_go_over_their_providers():
    p = parse({"providers": {"a": {"kind": "openai", "base_url": "http://a/v1",
                                   "extra_body": {"top_k": 20, "seed": 1}, "quirks": {"images": False, "clean_schema": True},
                                   "models": {"m": {"extra_body": {"seed": 2}, "quirks": {"images": True}, "rpm": 5}}}},
               "tiers": {"opus": ["a:m", "a:n"]}}, "p", "t")
    m, n = p.chain("opus")
    assert m.extra_body == {"top_k": 20, "seed": 2} and n.extra_body == {"top_k": 20, "seed": 1}
    assert (m.quirks.images, m.quirks.clean_schema) == (True, True) and n.quirks.images is False
    assert m.limits.rpm == 5 and n.limits.rpm is None and p.providers["a"].limits.rpm is None


@pytest.mark.parametrize("url, timeouts", [
    ("http://127.0.0.1:8080/v1", LOCAL_TIMEOUTS),  # a local model may take minutes over a long prompt
    ("http://localhost:11434/v1", LOCAL_TIMEOUTS),
    ("https://api.example.com/v1", {"timeout": Provider.timeout, "idle_timeout": Provider.idle_timeout}),
])
def test_a_local_server_gets_longer_timeouts_unless_the_profile_says(url, timeouts):
    p = parse({"providers": {"a": {"kind": "openai", "base_url": url + "/"}}, "tiers": {"opus": ["a:m"]}}, "p", "t")
    provider = p.providers["a"]
    assert {"timeout": provider.timeout, "idle_timeout": provider.idle_timeout} == timeouts
    assert provider.base_url == url  # the trailing slash goes
    said = parse({"providers": {"a": {"kind": "openai", "base_url": url, "timeout": 7}}, "tiers": {"opus": ["a:m"]}},
                 "p", "t")
    assert said.providers["a"].timeout == 7.0 and said.providers["a"].idle_timeout == timeouts["idle_timeout"]


def test_the_keys_a_profile_needs_are_those_of_the_providers_its_tiers_use():
    p = parse({"providers": {"b": {"kind": "openai", "base_url": "https://b/v1", "api_key_env": "SHARED"},
                             "a": {"kind": "openai", "base_url": "https://a/v1", "api_key_env": "SHARED"},
                             "idle": {"kind": "openai", "base_url": "https://i/v1", "api_key_env": "IDLE"},
                             "local": {"kind": "openai", "base_url": "http://127.0.0.1:1/v1"}},
               "tiers": {"opus": ["a:x", "local:y"], "haiku": ["b:z", "a:x"]},
               "search": {"kind": "tavily", "api_key_env": "TAVILY"}}, "p", "t")
    assert [pr.name for pr in p.used_providers()] == ["a", "local", "b"]  # in tier order, each once
    assert p.key_vars() == ["SHARED", "TAVILY"]
    assert [(m.provider, m.name) for m in p.models()] == [("a", "x"), ("local", "y"), ("b", "z")]
