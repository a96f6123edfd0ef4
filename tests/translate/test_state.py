"""Provider state carried through Claude Code's history in signatures and tool ids."""

import base64
import json
import re
import zlib

from freeclaude.translate import state


def test_seal_round_trip_with_unicode_and_details():
    sig = state.seal("openrouter", "réfléchir ✓", [{"type": "reasoning.encrypted", "data": "x" * 500}])
    assert sig.startswith(state.PREFIX) and re.fullmatch(r"[A-Za-z0-9._-]+", sig)
    assert state.unseal(sig) == {"p": "openrouter", "r": "réfléchir ✓", "d": [{"type": "reasoning.encrypted", "data": "x" * 500}]}


def test_unseal_refuses_what_we_did_not_make():
    for sig in (None, "", "EqQBCkgIARABGAIiQ", "fc1.not-base64!", "fc1." + "A" * 10, state.LEGACY):
        assert state.unseal(sig) == {}
    assert state.ours(state.LEGACY) and state.ours(state.seal("p", "r")) and not state.ours("EqQBCkgI")


def test_tool_ids_carry_a_signature_and_give_it_back():
    packed = state.with_signature("call_1", "CiQBjz1rX/+==")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", packed)
    assert state.split_id(packed) == ("call_1", "CiQBjz1rX/+==")
    assert state.split_id("toolu_plain") == ("toolu_plain", None)


def test_unseal_drops_fields_of_the_wrong_type():
    # a client sends signatures back: one that looks like ours may still carry anything
    raw = zlib.compress(json.dumps({"p": "nim", "r": 5, "d": "not a list"}).encode())
    assert state.unseal(state.PREFIX + base64.urlsafe_b64encode(raw).decode()) == {"p": "nim"}
