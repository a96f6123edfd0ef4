"""Who listens on a loopback port: the user's own gateway, nobody, or someone else.

On a machine several people use, any of them can bind 127.0.0.1:24817 while the user's gateway
is not running, and every Claude Code that `ide install` pointed there would then send that
process its prompts and the gateway's token. So a listener counts as the user's gateway only
when, in this order (each step sends nothing a stranger could use):
1. on Linux, every socket listening where a connection to 127.0.0.1:PORT arrives belongs to the
   user's uid (/proc/net/tcp and tcp6): another user's is told apart before a byte is sent;
2. it answers `GET /` (no token needed) as a freeclaude gateway does;
3. it refuses a made-up token, as every freeclaude gateway does (a proxy that takes any token
   would otherwise pass the next step);
4. it accepts the user's token.
Plain http.client: no proxy from the environment can get in the way of a loopback address.
"""

import dataclasses
import http.client
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

OURS, NOBODY, OTHER, SILENT = "ours", "nobody", "other", "silent"
# /proc/net/tcp and tcp6 write addresses as 32-bit words in the host's byte order (little-endian
# on every platform Linux runs this on): the addresses a connection to 127.0.0.1 reaches are
# 127.0.0.1, 0.0.0.0, and IPv6's "any" and 127.0.0.1 mapped into it (a dual-stack socket).
_V4 = {"0100007F", "00000000"}
_V6 = {"0" * 32, "0000000000000000FFFF00000100007F"}
_LISTEN = "0A"


@dataclasses.dataclass(frozen=True)
class Holder:
    kind: str  # OURS, NOBODY, OTHER (certainly not the user's gateway) or SILENT (no answer in time)
    who: str = ""  # OTHER and SILENT: what holds the port, said for the user

    @property
    def ours(self) -> bool:
        return self.kind == OURS

    @property
    def foreign(self) -> bool:
        """Something listens there that is not the user's gateway (or not in time to tell)."""
        return self.kind in (OTHER, SILENT)


def listening_uids(port: int, net: Path = Path("/proc/net")) -> set[int] | None:
    """The uids owning the sockets that listen where a connection to 127.0.0.1:`port` arrives;
    None where that cannot be read (not Linux). The kernel writes these tables a page at a time
    and a socket can slip between two reads while others come and go: a socket seen is there,
    but one not seen may still be."""
    found, read = set(), False
    for name, addresses in (("tcp", _V4), ("tcp6", _V6)):
        try:
            lines = _read_all(net / name).splitlines()[1:]
        except OSError:
            continue
        read = True
        for line in lines:
            fields = line.split()  # sl local_address rem_address st ... uid ...
            if len(fields) < 8 or fields[3] != _LISTEN:
                continue
            address, _, hex_port = fields[1].partition(":")
            if address in addresses and int(hex_port, 16) == port:
                found.add(int(fields[7]))
    return found if read else None


def examine(base_url: str, secret: str | None, timeout: float = 2.0) -> Holder:
    """Who answers at `base_url`; `secret` is the user's token (None: there is none yet, so
    nothing there can be the user's gateway)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    uids = listening_uids(port) if host == "127.0.0.1" else None
    others = sorted(uids - {os.getuid()}) if uids else []  # None elsewhere: Windows has no getuid
    if others:
        return Holder(OTHER, f"a process of another user ({_user(others[0])})")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        status, body = _get(conn, "/", None)
        if status != 200 or not (isinstance(body, dict) and body.get("status") == "ok"
                                 and isinstance(body.get("profile"), str)):
            return Holder(OTHER, f"a server that is not a freeclaude gateway (GET / answered {status})")
        if _get(conn, "/v1/models", "fc-" + secrets.token_urlsafe(32))[0] != 401:
            return Holder(OTHER, "a server that takes any token, which no freeclaude gateway does")
        if secret is not None:
            status, body = _get(conn, "/v1/models", secret)
            if status == 200 and isinstance(body, dict) and isinstance(body.get("data"), list):
                return Holder(OURS)
        return Holder(OTHER, "a freeclaude gateway that does not know your token (another user's, "
                             "or one started with another FREECLAUDE_HOME)")
    except ConnectionRefusedError:
        return Holder(NOBODY)
    except TimeoutError:
        return Holder(SILENT, f"a process that did not answer within {timeout:g} s")
    except (OSError, http.client.HTTPException):
        return Holder(OTHER, "a process that does not speak HTTP")
    finally:
        conn.close()


def _read_all(path: Path) -> str:
    """A /proc table in as few reads as the kernel allows: one, mostly."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 22):
            chunks.append(chunk)
        return b"".join(chunks).decode("ascii", "replace")
    finally:
        os.close(fd)


def _get(conn: http.client.HTTPConnection, path: str, token: str | None) -> tuple[int, object]:
    """Status and JSON body (None when it is not JSON) of one GET on a kept-alive connection."""
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    resp = conn.getresponse()
    raw = resp.read()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, None


def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"
