"""Images described for models that cannot see them, each image once in the gateway's life:
Claude Code sends the whole history again every turn, and a screenshot from the first turn would
otherwise be described on every one after it. The vision chain is asked through the gateway's
own attempts (`ask`), so it falls back, waits for rate limits and is billed like any request.
"""

import asyncio
from collections.abc import Awaitable, Callable

from freeclaude.profiles.providers import Model
from freeclaude.translate import images
from freeclaude.translate.errors import ApiError


class Describer:
    def __init__(self, ask: Callable[[dict, str | None], Awaitable[tuple[str, str]]] | None, profile: str) -> None:
        """`ask(block, session)` returns (who described it, the description); None: the profile
        has no vision chain, and images are replaced by a note."""
        self._ask = ask
        self._profile = profile
        self._known: dict[str, asyncio.Future] = {}  # image key -> its description's text

    async def without_images(self, body: dict, model: Model, session: str | None = None) -> dict:
        """The request with every image a text block, for `model`, which cannot see them
        (`session`: Claude Code's, for the ledger rows of the descriptions)."""
        found = images.find(body)
        if not found:
            return body
        if self._ask is None:
            note = images.unseen(f"{model.ref} cannot see images and profile {self._profile} "
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
        by, text = await self._ask(block, session)
        if not text.strip():
            raise ApiError(502, f"{by} answered with no description")
        return images.described(by, text)
