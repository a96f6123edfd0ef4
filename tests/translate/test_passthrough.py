"""What a Messages passthrough changes: model, cap, billing line, late system turns, our signatures."""

from freeclaude.profiles.providers import Model, Quirks
from freeclaude.translate import state
from freeclaude.translate.passthrough import for_passthrough


def test_thinking_we_signed_is_dropped_and_the_upstreams_own_is_kept():
    body = {"model": "claude-opus-5-5", "max_tokens": 128000, "system": "s", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "", "signature": state.seal("gemini", "r")},
                                          {"type": "thinking", "thinking": "own", "signature": "EqQBCkgIARAB"},
                                          {"type": "tool_use", "id": "t", "name": "X", "input": {}}]},
        {"role": "system", "content": "late"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]}]}
    out = for_passthrough(body, Model(name="deepseek-v4-pro", provider="d", quirks=Quirks(merge_system=True)), 8192)
    assert (out["model"], out["max_tokens"]) == ("deepseek-v4-pro", 8192)
    assert [b["type"] for b in out["messages"][1]["content"]] == ["thinking", "tool_use"]
    assert out["messages"][1]["content"][0]["signature"] == "EqQBCkgIARAB"
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"][0]["type"] == "thinking"  # the client's body is left alone
