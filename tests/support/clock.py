"""A clock that moves only when the code under test sleeps: the pacer's and the fallback
policy's waits, checked to the second without waiting."""


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
