"""Which upstream model answers: the tier of a model name, its fallback chain, cooldowns,
whether the prompt fits each model's window, and how long an answer to ask for."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from freeclaude.gateway.limits import Pacer
from freeclaude.profiles.providers import Model
from freeclaude.profiles.schema import MODEL_ID_PREFIX, Profile
from freeclaude.profiles.tiers import tier_of
from freeclaude.translate.errors import ApiError, too_long

# Output room a model must have left after the prompt to count as fitting.
MIN_OUTPUT = 1024
# The estimate can be a few percent under a model's own count; leave room for that when
# clamping max_tokens, since vLLM-style servers reject prompt + max_tokens > window.
ESTIMATE_MARGIN_PCT = 5
# Where the provider counts the max_tokens asked for against its tokens per minute before the model
# runs (quirk reserves_max_tokens), the first ask is bounded to this share of the minute, so one
# answer's reservation does not hold the next turn for a minute; an answer that reaches it is asked
# again for more (bounded.py). Never below BOUND_MIN.
BOUND_SHARE = 8
BOUND_MIN = 1024


@dataclass(frozen=True)
class Candidate:
    model: Model
    position: int  # in the tier's chain, for the ledger
    max_tokens: int
    ceiling: int = 0  # the most an answer may ask for when a bounded one is cut off (0: max_tokens)
    probe: bool = False  # over the profile's tokens per minute, which the provider never confirmed


@dataclass(frozen=True)
class Plan:
    tier: str
    requested: str
    estimate: int
    requested_max: int
    candidates: tuple[Candidate, ...]
    named: bool = False  # the tier was named outright, not read off the model name


def room(window: int, estimate: int) -> int:
    """Tokens left for output after the prompt, with a margin for the estimate's error."""
    return window - estimate - (estimate * ESTIMATE_MARGIN_PCT + 99) // 100


def max_tokens_for(model: Model, window: int, requested: int, estimate: int) -> int:
    return max(1, min(requested, model.max_output_tokens, room(window, estimate)))


class Router:
    def __init__(self, profile: Profile, clock: Callable[[], float] = time.monotonic,
                 budgets: Pacer | None = None) -> None:
        """`budgets` (limits.Pacer) knows each model's tokens per minute as the provider stated
        it; without it, the profile's numbers hold."""
        self.profile = profile
        self.clock = clock
        self.budgets = budgets
        self._cool_until: dict[str, float] = {}  # by Model.ref
        self._learned: dict[str, int] = {}  # windows upstreams told us were smaller

    def plan(self, model_name: str, estimate: int, requested_max: int, tier: str | None = None) -> Plan:
        """The models that can take this prompt, in chain order; 400 'prompt is too long' if none.
        `tier` names the chain outright (the gateway's own requests: "vision")."""
        named = tier is not None
        direct = None if named else self.profile.find(model_name)
        tier = tier or tier_of(model_name)
        if direct is None and not named and (":" in model_name or model_name.startswith(MODEL_ID_PREFIX)):
            raise self._unknown(model_name)  # a model named, not a tier: no tier is a stand-in for it
        chain = (direct,) if direct is not None else self.profile.chain(tier)
        # A model fits when, after the prompt and the estimate's margin, it has room for some
        # output: a request squeezed to a few tokens of answer helps nobody, while "prompt
        # is too long" makes Claude Code compact.
        need = min(requested_max, MIN_OUTPUT)
        windows = [self.window(m) for m in chain]
        fits = []
        for pos, (m, window) in enumerate(zip(chain, windows)):
            probe = room(window, estimate) < need
            if probe:
                # Over the profile's tokens per minute: sent once if the provider never said its
                # own, to learn it (a Developer plan's is far bigger than the template's).
                window = self.context(m)
                if self._confirmed(m) or room(window, estimate) < need:
                    continue
            most = max_tokens_for(m, window, requested_max, estimate)
            fits.append(Candidate(m, pos, min(most, self.bound(m)), ceiling=most, probe=probe))
        if not fits:
            window, biggest = max(zip(windows, chain), key=lambda wm: wm[0])
            limit = (window - need) * 100 // (100 + ESTIMATE_MARGIN_PCT)  # the largest prompt that fits
            if window < biggest.context_window:
                # Claude Code compacts on this wording, which is the one way such a session goes on.
                detail = (f"{biggest.ref} counts prompt + max_tokens against its "
                          f"{window:,} tokens-per-minute limit")
            else:
                detail = f"the largest window in the {tier} chain is {biggest.name}'s"
            raise too_long(estimate, limit, detail)
        return Plan(tier=tier, requested=model_name, estimate=estimate, requested_max=requested_max,
                    candidates=tuple(fits), named=named)

    def replan(self, plan: Plan) -> Plan:
        """The same request planned again (after a window was learned)."""
        return self.plan(plan.requested, plan.estimate, plan.requested_max, plan.tier if plan.named else None)

    def _unknown(self, name: str) -> ApiError:
        models = [m.ref for m in self.profile.models()]
        shown = ", ".join(models[:8]) + (f" and {len(models) - 8} more" if len(models) > 8 else "")
        return ApiError(404, f"model {name!r} is not in profile {self.profile.name} (its models: {shown}; "
                             "or ask for a tier: opus, sonnet, haiku, fable)")

    def window(self, model: Model) -> int:
        """The largest request (prompt + max_tokens) the model takes: its context window, or its
        tokens per minute where that is smaller (the provider's own figure once it stated one)."""
        if self.budgets is None:
            declared = model.window(self.profile.provider(model).limits)
            return min(declared, self._learned.get(model.ref, declared))
        tpm, _ = self.budgets.tpm(model)
        return min(self.context(model), tpm or self.context(model))

    def context(self, model: Model) -> int:
        """The model's context window, or less where an upstream said so."""
        return min(model.context_window, self._learned.get(model.ref, model.context_window))

    def _confirmed(self, model: Model) -> bool:
        return self.budgets is None or self.budgets.tpm(model)[1]

    def bound(self, model: Model) -> int:
        """The most a first ask should reserve on a provider that counts max_tokens up front."""
        if not model.quirks.reserves_max_tokens:
            return model.max_output_tokens
        tpm = self.budgets.tpm(model)[0] if self.budgets else model.window(self.profile.provider(model).limits)
        return max(BOUND_MIN, (tpm or model.context_window) // BOUND_SHARE)

    def learn(self, model: Model, window: int) -> bool:
        """An upstream named a smaller window (or token budget) than the profile: plan with it
        from now on. True when that changes anything."""
        if window >= self.window(model):
            return False
        self._learned[model.ref] = window
        return True

    # -------------------------------------------------------------- cooldowns

    def cool(self, model: Model, seconds: float) -> None:
        key = model.ref
        self._cool_until[key] = max(self._cool_until.get(key, 0.0), self.clock() + seconds)

    def cooldowns(self) -> dict[str, float]:
        """Every model sitting out now: "provider:model" -> seconds left."""
        now = self.clock()
        return {ref: until - now for ref, until in self._cool_until.items() if until > now}

    def cooling(self, model: Model) -> float:
        """Seconds until the model may be tried again (0 when it may now)."""
        return max(0.0, self._cool_until.get(model.ref, 0.0) - self.clock())
