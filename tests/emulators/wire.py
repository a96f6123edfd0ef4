"""What the emulator tests share: a key, a tool, a clock to drive the budgets, and readers for
the OpenAI stream."""

import json

KEY = {"Authorization": "Bearer test-key"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def events(resp) -> list[dict]:
    """The chunks of an OpenAI-style stream, which must end with [DONE]."""
    lines = [line[6:] for line in (await resp.text()).splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


async def started(aiohttp_client, cls, path: str):
    """An emulator on a clock, with a client and `post(payload, headers=KEY)` for `path`."""
    clock = Clock()
    emulator = cls(clock=clock)
    emulator.clock = clock
    emulator.client = await aiohttp_client(emulator.app())
    emulator.post = lambda payload, headers=KEY: emulator.client.post(path, json=payload, headers=headers)
    return emulator
