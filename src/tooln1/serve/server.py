"""Running the app under uvicorn: in the foreground for `tooln1 serve`, or in a background thread for tests.

Example:
    >>> from openai import OpenAI
    >>> with background(create_app(model, tokenizer, ServeConfig())) as base_url:
    ...     client = OpenAI(base_url=base_url, api_key="none")
    ...     client.models.list().data[0].id
    'tooln1'

Both bind the listening socket before uvicorn starts, so a taken port is a one-line `UserError`, and both log
"ready: <base url> ..." once the server accepts requests (port 0 picks a free port; the line names it).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tooln1.errors import UserError

logger = logging.getLogger(__name__)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (IPv6 when the host has a colon), or a `UserError` saying why not."""
    sock = socket.socket(family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as e:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {getattr(e, 'strerror', None) or e}") from None
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


class Server(uvicorn.Server):
    """uvicorn's server with our "ready" line, logged once it accepts requests."""

    def __init__(self, app: Any, sock: socket.socket, note: str = ""):
        # log_config=None: uvicorn's loggers go through the caller's logging setup, one format for every line.
        # access_log=False: the app logs one line per request itself, with latency and token counts.
        super().__init__(uvicorn.Config(app, log_config=None, timeout_graceful_shutdown=5, access_log=False))
        self.sock, self.note = sock, note

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            logger.info("ready: %s%s", base_url(self.sock), self.note)

    def serve_forever(self) -> None:
        self.run(sockets=[self.sock])


@contextmanager
def background(app: Any, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` in a daemon thread; yields the base URL ("http://127.0.0.1:PORT/v1") and stops on exit."""
    sock = listen(host, port)
    server = Server(app, sock)
    thread = threading.Thread(target=server.serve_forever, name="tooln1-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout)
