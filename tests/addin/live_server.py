"""The function server started for real (uvicorn, a free localhost port, a background thread)
and a signing httpx client, for the server tests and the benchmark."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from addin.server.app import create_app
from addin.server.keys import KeyStore, derive_signing_key
from addin.server.settings import Settings
from addin.server.signing import signed_headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Run the app with uvicorn on 127.0.0.1; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Signer:
    """A key as a client holds it: id and secret."""

    key_id: str
    secret: str

    @property
    def signing_key(self) -> bytes:
        return derive_signing_key(self.key_id, self.secret)

    def headers(
        self,
        method: str,
        path: str,
        body: bytes,
        now: float | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The four signature headers (a fresh nonce unless `nonce` is given)."""
        return signed_headers(self.key_id, self.signing_key, method, path, body, now, nonce)


def new_signer(keys_dir: Path, name: str = "test", spreadsheet: str | None = None) -> Signer:
    """A new key in `keys_dir` as a client holds it (bound to `spreadsheet` if given)."""
    key = KeyStore(keys_dir).create(name, spreadsheet=spreadsheet)
    return Signer(key.id, key.secret)


class SignedClient:
    """httpx client that signs every request (exactly the bytes it sends)."""

    def __init__(self, base_url: str, signer: Signer | None, timeout: float = 120) -> None:
        self.signer = signer
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(method, path, **kwargs)
        body = request.read()
        if self.signer is not None:
            target = request.url.raw_path.decode()
            request.headers.update(self.signer.headers(method, target, body))
        return self.http.send(request)

    def call(self, name: str, *args: Any, by_row: bool = False) -> httpx.Response:
        body = json.dumps({"args": list(args), "by_row": by_row}).encode()
        return self.request(
            "POST", f"/functions/{name}", content=body, headers={"Content-Type": "application/json"}
        )

    def close(self) -> None:
        self.http.close()
