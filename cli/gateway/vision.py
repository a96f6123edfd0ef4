"""Images described for models that cannot see them, each image once in the gateway's life:
Claude Code sends the whole history again every turn, and a screenshot from the first turn would
otherwise be described on every one after it. The vision chain is asked through attempts like any
request's (attempt.py), so it falls back, waits for rate limits and is billed, as tier "vision".
"""

import asyncio

from freeclaude.gateway.attempt import Attempts, request_id
from freeclaude.gateway.fallback import Fallback
from freeclaude.profiles.providers import Model
from freeclaude.translate import images
from freeclaude.translate.errors import ApiError
from freeclaude.translate.request import text_of
from freeclaude.translate.tokens import estimate


class Describer:
    def __init__(self, attempts: Attempts, fallback: Fallback, *, chain: bool) -> None:
        """`chain`: the profile has a vision chain; without one, images are replaced by a note."""
        self._attempts = attempts
        self._fallback = fallback
        self._chain = chain
        self._known: dict[str, asyncio.Future[str]] = {}  # image key -> its description's text

    async def without_images(self, body: dict, model: Model, session: str | None = None) -> dict:
        """The request with every image a text block, for `model`, which cannot see them
        (`session`: Claude Code's, for the ledger rows of the descriptions)."""
        found = images.find(body)
        if not found:
            return body
        if not self._chain:
            note = images.unseen(f"{model.ref} cannot see images and profile {self._attempts.profile} "
                                 "has no vision chain to describe them")
            return images.replace(body, dict.fromkeys(found, note))
        texts = await asyncio.gather(*(self._text(k, b, session) for k, b in found.items()))
        return images.replace(body, dict(zip(found, texts)))

    async def _text(self, key: str, block: dict, session: str | None) -> str:
        known = self._known.get(key)
        if known is None:  # the first request to need it asks; any other at the same time waits for it
            known = self._known[key] = asyncio.ensure_future(self._describe(block, session))
        try:
            return await asyncio.shield(known)
        except ApiError as e:
            self._known.pop(key, None)  # failed: the next request that needs it asks again
            return images.unseen(f"the vision model could not describe it ({e.message})")

    async def _describe(self, block: dict, session: str | None) -> str:
        """Its own request to the vision chain, with fallback: one ledger row per attempt."""
        attempts, body, request = self._attempts, images.request(block), request_id()
        tries = self._fallback.tries(attempts.router.plan(body["model"], estimate(body), body["max_tokens"],
                                                          tier="vision"))
        while True:
            cand = await tries.next()
            plan = tries.plan
            try:
                up = attempts.call(cand, body, plan.estimate)
                row = attempts.row(plan, cand, request, tries.number, stream=False, client_session=session)
                async with attempts.run(row, cand, up, plan.estimate):
                    message = await up.complete()
            except ApiError as e:
                tries.failed(cand, e)
                continue
            text = text_of(message.get("content"))
            if not text.strip():
                raise ApiError(502, f"{cand.model.ref} answered with no description")
            return images.described(cand.model.ref, text)
