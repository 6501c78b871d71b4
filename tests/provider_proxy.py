"""A real HTTP server in front of the sandbox's server-to-server API that forwards every call, except the ones a test
tells it to answer otherwise (a 404 page, HTML, an empty body, garbage): a provider that misbehaves on one call."""

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# (status, content type, body) for a path, or None to forward it
Override = Callable[[str], tuple[int, str, bytes] | None]
# after forwarding: the path and the upstream's (status, content type, body) → what the portal gets instead, or None
Rewrite = Callable[[str, tuple[int, str, bytes]], tuple[int, str, bytes] | None]


class ProviderProxy:
    def __init__(self, upstream: str, override: Override, rewrite: Rewrite | None = None):
        self.upstream, self.override, self.paths = upstream.rstrip("/"), override, []
        self.rewrite = rewrite
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, method: str) -> None:
                proxy.paths.append(self.path.split("?")[0])
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
                forced = proxy.override(self.path)
                if forced is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    upstream = requests.request(method, proxy.upstream + self.path, data=body or None,
                                                headers=headers, timeout=15)
                    forced = (upstream.status_code, upstream.headers.get("Content-Type", ""), upstream.content)
                    if proxy.rewrite is not None:
                        forced = proxy.rewrite(self.path, forced) or forced
                status, content_type, payload = forced
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                self._answer("GET")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "ProviderProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


NOT_FOUND = (404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")
