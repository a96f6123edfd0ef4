"""`freeclaude profile …` through the CLI runner, against a temporary FREECLAUDE_HOME."""

import tomllib

import pytest
from typer.testing import CliRunner

from freeclaude.app import app
from freeclaude.profiles import schema, store
from freeclaude.profiles.schema import ProfileError
from freeclaude.profiles.store import Store


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    return tmp_path


def cli(*args, env=None):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_add_from_template_list_show_use_remove(home):
    r = cli("profile", "add", "free", "--template", "openrouter")
    assert r.exit_code == 0 and "export OPENROUTER_API_KEY" in r.output
    data = tomllib.loads((home / "profiles" / "free.toml").read_text())
    assert data["providers"]["openrouter"]["api_key_env"] == "OPENROUTER_API_KEY"
    assert Store().default() == "free"  # the first profile becomes the default

    cli("profile", "add", "local", "--kind", "openai", "--base-url", "http://127.0.0.1:8080/v1",
        "--opus", "big", "--opus", "backup", "--haiku", "small")
    listing = cli("profile", "list").output
    assert "free" in listing and "local:big, local:backup" in listing and "*" in listing

    shown = cli("profile", "show", "local", env={"OPENROUTER_API_KEY": ""})
    assert 'opus = [\n    "local:big",\n    "local:backup",\n]' in shown.output

    assert cli("profile", "use", "local").exit_code == 0 and Store().default() == "local"
    assert cli("profile", "remove", "local").exit_code == 0
    assert Store().names() == ["free"] and Store().default() == "free"


def test_template_with_overrides(home):
    cli("profile", "add", "mine", "--template", "groq", "--sonnet", "openai/gpt-oss-20b", "--api-key-env", "MY_GROQ")
    p = Store().load("mine")
    assert [m.name for m in p.chain("sonnet")] == ["openai/gpt-oss-20b"]
    assert p.chain("sonnet")[0].context_window == 131072  # the template's model data is kept
    assert p.key_vars() == ["MY_GROQ"]


def test_show_says_whether_keys_are_set_never_their_value(home):
    cli("profile", "add", "free", "--template", "openrouter")
    r = cli("profile", "show", "free", env={"OPENROUTER_API_KEY": "sk-or-secret"})
    assert "$OPENROUTER_API_KEY: set" in r.output and "sk-or-secret" not in r.output
    r = cli("profile", "show", "free", env={"OPENROUTER_API_KEY": ""})
    assert "$OPENROUTER_API_KEY: NOT SET" in r.output


@pytest.mark.parametrize("args,message", [
    (("profile", "add", "x", "--template", "nope"), "unknown template 'nope' (templates: anthropic,"),
    (("profile", "show", "ghost"), "no profile named 'ghost'"),
    (("profile", "use", "ghost"), "no profile named 'ghost'"),
    (("profile", "remove", "ghost"), "no profile named 'ghost'"),
    (("profile", "add", "x"), "needs --base-url"),
    (("profile", "add", "x", "--base-url", "ftp://x", "--opus", "m"), "base_url must be an http:// or https:// URL"),
    (("profile", "add", "x", "--base-url", "http://x", "--kind", "grpc"), "--kind must be one of openai, anthropic"),
    (("profile", "add", "../etc", "--template", "ollama"), "not a valid profile name"),
    (("profile", "add", "x" * 300, "--template", "ollama"), "not a valid profile name (letters, digits, - _ ., at most 64"),
    (("profile", "show", "x" * 300), "not a valid profile name (letters, digits, - _ ., at most 64"),
    (("run", "--profile", "x" * 300), "not a valid profile name (letters, digits, - _ ., at most 64"),
    (("stats", "--since", "yesterday"), "--since 'yesterday'"),
])
def test_errors_are_one_clear_line(home, args, message):
    r = cli(*args)
    assert r.exit_code == 1
    assert message in r.output and "Traceback" not in r.output
    assert r.output.startswith("freeclaude:")


def test_bad_toml_names_file_and_line(home):
    (home / "profiles").mkdir()
    (home / "profiles" / "broken.toml").write_text('[providers.x]\nkind = "openai"\nbase_url = \n')
    r = cli("profile", "show", "broken")
    assert r.exit_code == 1 and "broken.toml: bad TOML" in r.output and "line 3" in r.output


@pytest.mark.parametrize("file, args", [
    ("profiles/latin1.toml", ("profile", "show", "latin1")),
    ("profiles/latin1.toml", ("run", "--profile", "latin1")),
    ("config.toml", ("profile", "list")),
    ("config.toml", ("run",)),
])
def test_a_file_that_is_not_utf8_is_named_in_one_line(home, file, args):
    (home / "profiles").mkdir()
    (home / "profiles" / "ok.toml").write_text(
        '[providers.x]\nkind = "openai"\nbase_url = "http://h/v1"\n[tiers]\nopus = ["x:m"]\n')
    (home / file).write_bytes('description = "caf\u00e9"\n'.encode("latin-1"))  # é as one byte: not UTF-8
    r = cli(*args)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.startswith(f"freeclaude: {home / file}: not UTF-8 (an invalid byte at offset 18)")


def test_a_home_that_cannot_hold_files_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path / "a-file"))
    r = cli("profile", "add", "x", "--template", "ollama")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.startswith(f"freeclaude: {tmp_path / 'a-file'}") and "Not a directory" in r.output


def test_schema_errors_name_the_setting(home):
    (home / "profiles").mkdir()
    (home / "profiles" / "odd.toml").write_text(
        '[providers.x]\nkind = "openai"\nbase_url = "http://h/v1"\nrpm = -1\n[tiers]\nopus = ["x:m"]\n')
    r = cli("profile", "show", "odd")
    assert r.exit_code == 1 and "providers.x.rpm must be a positive integer" in r.output


@pytest.mark.parametrize("kind,value,message", [
    ("openai", 3, "temperature must be a number from 0 to 2"),
    ("openai", "cold", "temperature must be a number from 0 to 2"),
    ("anthropic", 0.5, "temperature applies to openai providers only"),
])
def test_model_temperature_is_checked(home, kind, value, message):
    data = {"providers": {"x": {"kind": kind, "base_url": "http://h/v1", "models": {"m": {"temperature": value}}}},
            "tiers": {"opus": ["x:m"]}}
    with pytest.raises(ProfileError, match=message):
        schema.parse(data, "t", "t")
    data["providers"]["x"]["kind"] = "openai"
    data["providers"]["x"]["models"]["m"]["temperature"] = 0
    assert schema.parse(data, "t", "t").chain("opus")[0].temperature == 0.0


def test_run_without_the_key_says_which_variable(home, monkeypatch):
    cli("profile", "add", "free", "--template", "openrouter")
    monkeypatch.setenv("FREECLAUDE_CLAUDE", "true")
    r = cli("run", "--profile", "free", env={"OPENROUTER_API_KEY": ""})
    assert r.exit_code == 1 and "needs its key in $OPENROUTER_API_KEY, which is not set" in r.output


@pytest.mark.parametrize("name", sorted(store.templates()))
def test_every_template_is_valid_and_complete(name):
    p = schema.parse(store.template(name), name, name)
    assert p.description
    for tier in ("opus", "sonnet", "haiku"):
        chain = p.chain(tier)
        assert chain, tier
        for m in chain:
            assert m.context_window >= 4096 and m.max_output_tokens >= 1024
            assert (m.provider, m.name) in {(m2.provider, m2.name) for m2 in p.models()}
    local = all(p.base_url.startswith(("http://127.0.0.1", "http://localhost")) for p in p.providers.values())
    assert bool(p.key_vars()) != local


def test_gemini_template_cleans_schemas():
    p = schema.parse(store.template("gemini"), "g", "g")
    assert all(m.quirks.clean_schema for m in p.models())


def test_resolve_without_any_profile_explains():
    with pytest.raises(ProfileError, match="no profile yet"):
        Store(root=__import__("pathlib").Path("/nonexistent-freeclaude")).resolve(None)


def test_save_is_atomic_and_validated(home):
    store = Store()
    with pytest.raises(ProfileError):
        store.save("bad", {"providers": {}, "tiers": {}})
    assert not store.exists("bad")
    assert [p.name for p in (home / "profiles").iterdir()] == [] if (home / "profiles").exists() else True


def test_fable_borrows_opus_and_the_vision_chain_is_its_own():
    p = schema.parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1"}},
                        "tiers": {"opus": ["a:big"], "haiku": ["a:small"], "vision": ["a:eyes"]}}, "p", "t")
    assert [m.name for m in p.chain("fable")] == ["big"]
    assert [m.name for m in p.chain("sonnet")] == ["big"]  # no default: the next tier in order
    assert [m.name for m in p.chain("vision")] == ["eyes"]
    alone = schema.parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1"}},
                            "tiers": {"opus": ["a:big"]}}, "p", "t")
    assert alone.chain("vision") == ()  # never borrowed: without one, images are not described


def test_add_with_a_fable_chain(home):
    cli("profile", "add", "f", "--kind", "openai", "--base-url", "http://127.0.0.1:8080/v1", "--opus", "big",
        "--fable", "best", "--fable", "big")
    data = tomllib.loads((home / "profiles" / "f.toml").read_text())
    assert data["tiers"]["fable"] == ["f:best", "f:big"]
    assert "fable" in cli("profile", "list").output


def _with_search(search, kind="openai", url="http://h/v1", quirks=None) -> dict:
    provider = {"kind": kind, "base_url": url, "models": {"m": {}}}
    if quirks:
        provider["quirks"] = quirks
    data = {"providers": {"x": provider}, "tiers": {"opus": ["x:m"]}}
    if search is not None:
        data["search"] = search
    return data


@pytest.mark.parametrize("table, kind, url, key_env", [
    ({"kind": "searxng", "base_url": "http://127.0.0.1:8888/"}, "searxng", "http://127.0.0.1:8888", None),
    ({"kind": "brave", "api_key_env": "BRAVE_API_KEY"}, "brave", "https://api.search.brave.com/res/v1", "BRAVE_API_KEY"),
    ({"kind": "tavily", "api_key_env": "TAVILY_API_KEY", "max_results": 5}, "tavily", "https://api.tavily.com", "TAVILY_API_KEY"),
])
def test_the_search_table_names_a_backend(table, kind, url, key_env):
    p = schema.parse(_with_search(table), "t", "t")
    assert (p.search.kind, p.search.url, p.search.api_key_env) == (kind, url, key_env)
    assert p.key_vars() == ([key_env] if key_env else [])
    assert schema.parse(_with_search(None), "t", "t").search is None


@pytest.mark.parametrize("table, message", [
    ("searxng", "search must be a table"),
    ({"kind": "google"}, "search.kind must be one of searxng, brave, tavily"),
    ({"kind": "searxng"}, "search.base_url must be an http:// or https:// URL (searxng is self-hosted)"),
    ({"kind": "searxng", "base_url": "ftp://x"}, "search.base_url must be an http:// or https:// URL"),
    ({"kind": "searxng", "base_url": "http://x", "api_key_env": "K"}, "search.api_key_env does not apply"),
    ({"kind": "brave"}, "search.api_key_env must name the environment variable holding the brave key"),
    ({"kind": "tavily", "api_key_env": "not a var"}, "search.api_key_env must name"),
    ({"kind": "brave", "api_key_env": "K", "max_results": 50}, "search.max_results must be an integer from 1 to 20"),
    ({"kind": "brave", "api_key_env": "K", "timeout": 0}, "search.timeout must be a positive number"),
    ({"kind": "brave", "api_key_env": "K", "engine": "x"}, "search.engine is not a search setting"),
])
def test_search_table_errors_name_the_setting(table, message):
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        schema.parse(_with_search(table), "t", "t")


def test_anthropics_own_api_runs_web_search_itself_and_others_do_not():
    own = schema.parse(_with_search(None, "anthropic", "https://api.anthropic.com"), "t", "t")
    other = schema.parse(_with_search(None, "anthropic", "https://api.example.com/anthropic"), "t", "t")
    said = schema.parse(_with_search(None, "anthropic", "https://x.org", {"server_web_search": True}), "t", "t")
    assert [p.chain("opus")[0].quirks.server_web_search for p in (own, other, said)] == [True, False, True]
    with pytest.raises(ProfileError, match="server_web_search applies to anthropic providers only"):
        schema.parse(_with_search(None, quirks={"server_web_search": True}), "t", "t")
    per_model = _with_search(None)
    per_model["providers"]["x"]["models"]["m"]["quirks"] = {"server_web_search": True}
    with pytest.raises(ProfileError, match=r'models\."m"\.quirks\.server_web_search applies to anthropic'):
        schema.parse(per_model, "t", "t")


def test_a_vision_chain_of_models_that_cannot_see_is_refused():
    data = {"providers": {"p": {"kind": "openai", "base_url": "http://x", "models": {"t": {"quirks": {"images": False}}}}},
            "tiers": {"default": ["p:t"], "vision": ["p:t"]}}
    with pytest.raises(ProfileError, match="tiers.vision must name models that take images"):
        schema.parse(data, "x", "test")


def test_show_says_what_runs_web_searches(home):
    cli("profile", "add", "free", "--template", "openrouter")
    assert ("web search: none set up in profile free, so WebSearch answers that it is unavailable (a [search] table"
            in cli("profile", "show", "free").output)
    data = tomllib.loads((home / "profiles" / "free.toml").read_text())
    Store().save("free", dict(data, search={"kind": "brave", "api_key_env": "BRAVE_API_KEY"}))
    shown = cli("profile", "show", "free", env={"BRAVE_API_KEY": "bk-secret"}).output
    assert "web search: brave at https://api.search.brave.com/res/v1" in shown
    assert "$BRAVE_API_KEY: set" in shown and "bk-secret" not in shown
    cli("profile", "add", "claude", "--template", "anthropic")
    assert "web search" not in cli("profile", "show", "claude").output  # Anthropic runs its own


def test_run_without_the_search_key_says_which_variable(home, monkeypatch):
    cli("profile", "add", "free", "--template", "openrouter")
    data = tomllib.loads((home / "profiles" / "free.toml").read_text())
    Store().save("free", dict(data, search={"kind": "tavily", "api_key_env": "TAVILY_API_KEY"}))
    monkeypatch.setenv("FREECLAUDE_CLAUDE", "true")
    r = cli("run", "--profile", "free", env={"OPENROUTER_API_KEY": "k", "TAVILY_API_KEY": ""})
    assert r.exit_code == 1 and "[search] (tavily) needs its key in $TAVILY_API_KEY, which is not set" in r.output


def test_text_call_formats_off_names_formats():
    data = {"providers": {"p": {"kind": "openai", "base_url": "http://x", "quirks": {"text_call_formats_off": "json pythonic"},
                                "models": {"m": {"quirks": {"text_call_formats_off": "hermes"}}, "n": {}}}},
            "tiers": {"default": ["p:m", "p:n"]}}
    chain = schema.parse(data, "t", "t").chain("default")
    assert [m.quirks.text_call_formats_off for m in chain] == ["hermes", "json pythonic"]
    data["providers"]["p"]["quirks"]["text_call_formats_off"] = "json xml"
    with pytest.raises(ProfileError, match=r"quirks\.text_call_formats_off names no format 'xml' \(hermes, qwen3_coder"):
        schema.parse(data, "t", "t")
