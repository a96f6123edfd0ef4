"""The tiers Claude Code asks for, and the tier of a model name. Kept free of imports: the
statusline, which must answer in a few milliseconds, needs them too."""

TIERS = ("opus", "sonnet", "haiku", "fable")  # what Claude Code asks for (its /model offers Fable)


def tier_of(model_name: str) -> str:
    lowered = model_name.lower()
    return next((t for t in TIERS if t in lowered), "default")
