"""What a gateway starts with: the keys it reads, checked before anything starts, and a socket that
holds connections made before the server runs."""

import re
import socket

import pytest

from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import Config, listen
from freeclaude.profiles.schema import parse


def two_providers(**search):
    return parse({"providers": {"paid": {"kind": "openai", "base_url": "https://p.example/v1", "api_key_env": "PAID_KEY"},
                                "local": {"kind": "openai", "base_url": "http://127.0.0.1:8080/v1"},
                                "unused": {"kind": "openai", "base_url": "https://u.example/v1", "api_key_env": "UNUSED"}},
                  "tiers": {"opus": ["paid:big"], "haiku": ["local:small"]}, **search}, "p", "t")


def test_only_the_providers_a_tier_uses_need_their_key():
    config = Config(profile=two_providers(), env={"PAID_KEY": "sk-1"})
    assert config.keys() == {"paid": "sk-1", "local": None}


@pytest.mark.parametrize("env, missing", [
    ({}, "provider paid needs its key in $PAID_KEY, which is not set (export PAID_KEY=...)"),
    ({"PAID_KEY": ""}, "provider paid needs its key in $PAID_KEY"),  # set but empty is not set
    ({"PAID_KEY": "sk-1"}, "[search] (brave) needs its key in $BRAVE_KEY, which is not set"),
])
def test_a_missing_key_is_named_before_anything_starts(env, missing):
    config = Config(profile=two_providers(search={"kind": "brave", "api_key_env": "BRAVE_KEY"}), env=env)
    with pytest.raises(FreeclaudeError, match="^" + re.escape(f"profile p: {missing}")):
        config.keys()


def test_each_gateway_gets_its_own_token_and_session():
    a, b = Config(profile=two_providers()), Config(profile=two_providers())
    assert re.fullmatch(r"fc-[\w-]{43}", a.token) and a.token != b.token
    assert re.fullmatch(r"[0-9a-f]{12}", a.session) and a.session != b.session


def test_a_connection_made_before_the_server_runs_waits_for_it():
    with listen("127.0.0.1", 0) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"early")
            accepted, _ = server.accept()
            with accepted:
                assert accepted.recv(5) == b"early"
        with pytest.raises(FreeclaudeError, match=f"^cannot listen on 127.0.0.1:{port}: Address already in use"):
            listen("127.0.0.1", port)
