"""What `run` gives Claude Code to label its /model picker: each tier's row names the chain that
really answers it, and what it costs."""

from freeclaude.claude.picker import CLAUDE_MODELS, DESCRIPTION_MAX, picker_env
from freeclaude.profiles.schema import parse

VAR = "ANTHROPIC_DEFAULT_{}_MODEL"


def profile(tiers: dict, models: dict | None = None):
    return parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1", "models": models or {}}},
                  "tiers": tiers}, "p", "t")


def test_each_tier_keeps_claude_codes_own_id_and_is_labelled_with_its_chain():
    env = picker_env(profile({"opus": ["a:big", "a:backup"], "haiku": ["a:small"]},
                             {"big": {"input_price": 0.15, "output_price": 0.6}}))
    assert env["CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"] == "1"
    for tier, model in CLAUDE_MODELS.items():
        assert env[VAR.format(tier.upper())] == model  # the id Claude Code knows, so it keeps the tier
    assert env[VAR.format("OPUS") + "_NAME"] == "Opus · a:big"
    assert env[VAR.format("OPUS") + "_DESCRIPTION"] == "opus chain: a:big, then a:backup · $0.15/$0.6 per Mtok"
    assert env[VAR.format("HAIKU") + "_DESCRIPTION"] == "haiku chain: a:small · free"
    # sonnet and fable borrow opus's chain, and say so under their own names
    assert env[VAR.format("FABLE") + "_NAME"] == "Fable · a:big"
    assert env[VAR.format("SONNET") + "_DESCRIPTION"].startswith("sonnet chain: a:big, then a:backup")


def test_a_long_chain_is_cut_where_claude_code_would_cut_it():
    chain = [f"a:model-with-a-rather-long-name-{i}" for i in range(4)]
    description = picker_env(profile({"opus": chain}))[VAR.format("OPUS") + "_DESCRIPTION"]
    assert len(description) == DESCRIPTION_MAX and description.endswith("…")
    assert description.startswith("opus chain: a:model-with-a-rather-long-name-0, then a:model-with-a-rather-long-name-1")


def test_a_profile_with_only_a_vision_chain_labels_no_row():
    env = picker_env(profile({"vision": ["a:eyes"]}))
    assert env == {"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}
