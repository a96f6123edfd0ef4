"""What Claude Code's /model picker shows: each tier's row says what that tier really runs, and
the gateway's /v1/models lists every model of the profile (checked against Claude Code 2.1.330).

Each row keeps the model id Claude Code itself uses for the tier, so it still knows the model
(no "doesn't recognize the model" notice, its thinking and effort settings) and its requests
still name the tier, which keeps the fallback chain. _NAME and _DESCRIPTION only relabel it.
"""

from freeclaude.profiles.providers import Model
from freeclaude.profiles.schema import MODEL_ID_PREFIX, Profile
from freeclaude.profiles.tiers import TIERS

# The ids Claude Code 2.1.330 asks for on each tier (its defaults; pricing.py has their list prices).
CLAUDE_MODELS = {"opus": "claude-opus-5-5", "sonnet": "claude-sonnet-5-5", "haiku": "claude-haiku-5-5",
                 "fable": "claude-fable-5-2"}
# Claude Code cuts a gateway model's description at 100 characters.
DESCRIPTION_MAX = 100


def picker_env(profile: Profile) -> dict[str, str]:
    """The variables that label each tier's row and turn on the gateway's model list."""
    env = {"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}
    for tier in TIERS:
        chain = profile.chain(tier)
        if not chain:
            continue
        var, name, description = tier_vars(tier)
        env[var] = CLAUDE_MODELS[tier]
        env[name] = f"{tier.capitalize()} · {chain[0].ref}"
        later = f", then {', '.join(m.ref for m in chain[1:])}" if len(chain) > 1 else ""
        env[description] = _cut(f"{tier} chain: {chain[0].ref}{later} · {price(chain[0])}")
    return env


def tier_vars(tier: str) -> tuple[str, str, str]:
    """The model variable of a tier's row and its _NAME and _DESCRIPTION siblings."""
    var = f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL"
    return var, var + "_NAME", var + "_DESCRIPTION"


def listing(profile: Profile) -> list[dict]:
    """/v1/models in Anthropic's shape (plus the description Claude Code shows): the tiers by
    name, then each model by the id /model sends back when it is picked."""
    created = "2025-01-01T00:00:00Z"
    data = [{"type": "model", "id": tier, "display_name": f"{tier}: {profile.chain(tier)[0].ref}",
             "created_at": created} for tier in TIERS if profile.chain(tier)]
    for m in profile.models():
        tiers = [t for t in (*TIERS, "default") if m in profile.tiers.get(t, ())]
        used = f" · {', '.join(tiers)}" if tiers else ""
        data.append({"type": "model", "id": MODEL_ID_PREFIX + m.ref, "display_name": m.ref, "created_at": created,
                     "description": _cut(f"{m.context_window // 1000}k window · {price(m)}{used}")})
    return data


def price(m: Model) -> str:
    if not (m.input_price or m.output_price):
        return "free"
    return f"${m.input_price:g}/${m.output_price:g} per Mtok"


def _cut(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1] + "…"
