"""Values put into a settings text and taken out again: exactly what was added goes, what was
replaced comes back, what the user changed in between stays theirs."""

import json

import pytest

from freeclaude.errors import FreeclaudeError
from freeclaude.ide import injection, jsonc
from freeclaude.ide.injection import Env

OURS = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:24817", "ANTHROPIC_AUTH_TOKEN": "fc-tok", "API_TIMEOUT_MS": "1800000"}
KEEP = ("API_TIMEOUT_MS",)


def claude(text):
    return injection.inject(text, {"env": Env(dict(OURS), keep=KEEP)}, strict=True, where="settings.json")


def test_the_users_env_entries_and_other_keys_stay():
    text = '{\n  "model": "opus",\n  "env": {"FOO": "1", "ANTHROPIC_BASE_URL": "https://mine", "API_TIMEOUT_MS": "5"}\n}\n'
    out, record = claude(text)
    data = json.loads(out)
    assert data["model"] == "opus"
    assert data["env"] == {"FOO": "1", "ANTHROPIC_BASE_URL": OURS["ANTHROPIC_BASE_URL"], "API_TIMEOUT_MS": "5",
                           "ANTHROPIC_AUTH_TOKEN": "fc-tok"}  # the user's timeout wins, as under `run`
    back, taken = injection.eject(out, record, strict=True, where="settings.json")
    assert json.loads(back) == json.loads(text) and sorted(taken) == ["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"]


def test_an_env_key_freeclaude_added_goes_with_its_last_variable():
    out, record = claude('{\n  "model": "opus"\n}\n')
    assert list(json.loads(out)) == ["env", "model"]
    back, _ = injection.eject(out, record, strict=True, where="settings.json")
    assert back == '{\n  "model": "opus"\n}\n'


def test_edits_made_in_between_survive():
    out, record = claude('{\n  "env": {"FOO": "1"}\n}\n')
    data = json.loads(out)
    data["env"]["ANTHROPIC_AUTH_TOKEN"] = "the user's own"  # changed one of ours
    data["env"]["BAR"] = "2"  # added their own
    data["theme"] = "dark"
    edited = json.dumps(data, indent=2)
    back, taken = injection.eject(edited, record, strict=True, where="settings.json")
    assert json.loads(back) == {"env": {"FOO": "1", "ANTHROPIC_AUTH_TOKEN": "the user's own", "BAR": "2"},
                                "theme": "dark"}
    assert taken == ["ANTHROPIC_BASE_URL", "API_TIMEOUT_MS"]


def test_a_key_the_user_removed_is_not_put_back():
    out, record = claude('{"theme": "dark"}')
    edited = jsonc.remove_member(out, "env")
    assert injection.eject(edited, record, strict=True, where="s") == (edited, [])


def test_vscode_list_of_name_value_pairs():
    text = '{\n    // mine\n    "claudeCode.environmentVariables": [{"name": "FOO", "value": "1"}],\n}\n'
    wanted = {"claudeCode.environmentVariables": Env(dict(OURS), shape="list", keep=KEEP),
              "claudeCode.disableLoginPrompt": True}
    out, record = injection.inject(text, wanted, strict=False, where="settings.json")
    data = jsonc.loads(out)
    assert data["claudeCode.environmentVariables"] == [{"name": "FOO", "value": "1"}] + [
        {"name": k, "value": v} for k, v in OURS.items()]
    assert data["claudeCode.disableLoginPrompt"] is True and "// mine" in out
    back, _ = injection.eject(out, record, strict=False, where="settings.json")
    assert jsonc.loads(back) == jsonc.loads(text) and "// mine" in back


def test_a_replaced_scalar_comes_back():
    text = '{"claudeCode.disableLoginPrompt": false}'
    out, record = injection.inject(text, {"claudeCode.disableLoginPrompt": True}, strict=False, where="s")
    assert jsonc.loads(out) == {"claudeCode.disableLoginPrompt": True}
    back, taken = injection.eject(out, record, strict=False, where="s")
    assert back == text and taken == ["claudeCode.disableLoginPrompt"]


def test_an_object_where_vscode_keeps_a_list_is_merged_as_an_object():
    """Some guides write claudeCode.environmentVariables as an object: its shape is the user's."""
    text = '{"claudeCode.environmentVariables": {"FOO": "1"}}'
    out, record = injection.inject(text, {"claudeCode.environmentVariables": Env({"A": "x"}, shape="list")},
                                   strict=False, where="s")
    assert jsonc.loads(out)["claudeCode.environmentVariables"] == {"FOO": "1", "A": "x"}
    assert jsonc.loads(injection.eject(out, record, strict=False, where="s")[0]) == jsonc.loads(text)


@pytest.mark.parametrize("text, error", [
    ('{"env": {"A": 1,}}', "is not valid JSON"),  # Claude Code reads plain JSON
    ("// note\n{}", "is not valid JSON"),
    ("[1]", "does not hold a JSON object"),
    ('{"env": "A=1"}', "env in settings.json is neither an object nor a list"),
    ('{"env": [1, 2]}', "env in settings.json is neither an object nor a list"),
])
def test_what_cannot_be_merged_is_refused(text, error):
    with pytest.raises(FreeclaudeError, match=error):
        claude(text)


def test_an_empty_text_is_an_empty_object():
    out, record = claude("")
    assert json.loads(out) == {"env": OURS}
    assert injection.eject(out, record, strict=True, where="s")[0].split() == ["{", "}"]


DENY = {"permissions": injection.Entries("deny", ("Agent", "WebFetch"))}


def test_denied_tools_join_the_users_permissions_and_leave_again():
    text = '{\n  "permissions": {"allow": ["Bash(ls:*)"], "deny": ["WebFetch", "Read(./.env)"]},\n  "model": "opus"\n}\n'
    out, record = injection.inject(text, DENY, strict=True, where="s")
    assert json.loads(out)["permissions"] == {"allow": ["Bash(ls:*)"], "deny": ["WebFetch", "Read(./.env)", "Agent"]}
    assert record["permissions"]["entries"] == ["Agent"]  # WebFetch was the user's already
    back, taken = injection.eject(out, record, strict=True, where="s")
    assert json.loads(back) == json.loads(text) and taken == ["Agent"]


def test_permissions_freeclaude_added_go_with_its_last_entry():
    out, record = injection.inject('{"model": "opus"}', DENY, strict=True, where="s")
    assert json.loads(out) == {"model": "opus", "permissions": {"deny": ["Agent", "WebFetch"]}}
    back, _ = injection.eject(out, record, strict=True, where="s")
    assert json.loads(back) == {"model": "opus"}
    out, record = injection.inject('{"permissions": {"allow": []}}', DENY, strict=True, where="s")
    back, _ = injection.eject(out, record, strict=True, where="s")
    assert json.loads(back) == {"permissions": {"allow": []}}


def test_denied_tools_the_user_removed_or_added_since_stay_as_they_are():
    out, record = injection.inject("{}", DENY, strict=True, where="s")
    data = json.loads(out)
    data["permissions"]["deny"] = ["Agent", "Bash(rm:*)"]  # took WebFetch out, added one of theirs
    back, taken = injection.eject(json.dumps(data), record, strict=True, where="s")
    assert json.loads(back) == {"permissions": {"deny": ["Bash(rm:*)"]}} and taken == ["Agent"]


@pytest.mark.parametrize("text", ['{"permissions": ["Agent"]}', '{"permissions": {"deny": "Agent"}}'])
def test_permissions_of_another_shape_are_refused(text):
    with pytest.raises(FreeclaudeError, match="is not what Claude Code reads there"):
        injection.inject(text, DENY, strict=True, where="s")
