"""What a gateway is started with (uvicorn's Config/Server split): light enough to build, and to
check the keys, before aiohttp is even imported, so `run` can start Claude Code first."""

import dataclasses
import os
import secrets
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path

from freeclaude.errors import FreeclaudeError
from freeclaude.profiles.schema import Profile

# `freeclaude start`'s port. Below 32768, so outside every platform's range of ports handed to
# outgoing connections (Linux 32768-60999, Windows and macOS 49152-65535), where a fixed port can
# be taken at random; away from the ports local model servers and other gateways use (1234, 3000,
# 4000, 8000, 8080, 8082, 11434...); not one of the common services in /etc/services.
BACKGROUND_PORT = 24817
GRACE_S = 10.0  # on stop, how long answers in flight may take to finish before they are ended


def new_token() -> str:
    return "fc-" + secrets.token_urlsafe(32)


@dataclasses.dataclass
class Config:
    profile: Profile
    token: str = dataclasses.field(default_factory=new_token)
    host: str = "127.0.0.1"
    port: int = 0
    sock: socket.socket | None = None  # already listening (run binds before it starts Claude Code)
    ledger_path: Path | None = None
    state_dir: Path | None = None  # per Claude Code session, for the statusline (sessions.py)
    session: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:12])
    max_body: int = 32 * 1024 * 1024  # Anthropic's own request limit
    max_wait: float = 90.0  # longest a request waits for a rate-limited model to cool down
    grace: float = GRACE_S
    env: Mapping[str, str] = dataclasses.field(default_factory=lambda: os.environ)

    def keys(self) -> dict[str, str | None]:
        """Each used provider's key, read from the variable the profile names (and the search
        backend's checked too, so that a missing one is said before anything starts)."""
        keys: dict[str, str | None] = {}
        for p in self.profile.used_providers():
            keys[p.name] = self._key(p.api_key_env, f"provider {p.name}")
        self.search_key()
        return keys

    def search_key(self) -> str | None:
        search = self.profile.search
        return self._key(search.api_key_env, f"[search] ({search.kind})") if search else None

    def _key(self, var: str | None, who: str) -> str | None:
        if var is None:
            return None
        value = self.env.get(var)
        if not value:
            raise FreeclaudeError(f"profile {self.profile.name}: {who} needs its key in ${var}, "
                                  f"which is not set (export {var}=...)")
        return value


def listen(host: str, port: int) -> socket.socket:
    """A listening socket: connections made before the server runs wait in its backlog."""
    try:
        return socket.create_server((host, port), backlog=128)
    except OSError as e:
        raise FreeclaudeError(f"cannot listen on {host}:{port}: {e.strerror}") from None
