"""A listener squatting a port, as another user of a shared machine could: it binds 127.0.0.1:PORT
before the user's gateway does and answers as KIND says. Every Authorization header it is sent
goes to its stdout, so a test can tell whether a token reached it.

KIND: `proxy`   - answers GET / as freeclaude does and takes any token (a logging proxy);
      `gateway` - answers as a freeclaude gateway that knows another token (another user's);
      `web`     - some other web server.

Run as a script (stdlib only, so that the system's python can run it as another user); the
test side is `Squatter`, a context manager."""

import http.server
import json
import subprocess
import sys

_ERROR = {"type": "error", "error": {"type": "authentication_error", "message": "invalid token"}}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        print("auth", self.headers.get("Authorization"), flush=True)
        kind = self.server.kind
        if kind == "web":
            self._reply(404, b"<h1>Not Found</h1>", "text/html")
        elif self.path == "/":
            self._json(200, {"status": "ok", "profile": "p"})
        elif kind == "proxy":
            self._json(200, {"data": [], "has_more": False})
        else:
            self._json(401, _ERROR)

    do_POST = do_GET

    def _json(self, status: int, body: dict) -> None:
        self._reply(status, json.dumps(body).encode(), "application/json")

    def _reply(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main(port: int, kind: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.kind = kind
    print("ready", flush=True)
    server.serve_forever()


class Squatter:
    """The squatter, run by `python` (as `uid` when given: root only) while the block runs;
    `.headers` then holds the Authorization headers it was sent."""

    def __init__(self, port: int, kind: str, uid: int | None = None, python: str = sys.executable) -> None:
        self.argv = [python, "-c", open(__file__, encoding="utf-8").read(), str(port), kind]
        self.uid = uid
        self.headers: list[str] = []

    def __enter__(self) -> "Squatter":
        self.proc = subprocess.Popen(self.argv, user=self.uid, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line != "ready\n":
            self.proc.kill()
            raise RuntimeError(f"the squatter did not start: {line!r}")
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        self.headers = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("auth ")]


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
