"""The server's OpenAPI spec fuzzed with schemathesis against the live server: no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis  # a dev dependency: missing, the test fails instead of skipping
from hypothesis import HealthCheck, given, settings
from live_server import Signer, live_server, new_signer

from addin.server.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-keys")


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> Signer:
    return new_signer(keys_dir, "fuzz")


@pytest.fixture(scope="module")
def base_url(keys_dir: Path) -> Iterator[str]:
    with live_server(Settings(keys_dir=keys_dir, max_body_bytes=1024 * 1024)) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


class SignedAuth(requests.auth.AuthBase):
    """Signs exactly the bytes requests will send (a fresh timestamp per request)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        r.headers.update(self.signer.headers(str(r.method), r.path_url, body))
        return r


STATUSES: dict[int, int] = {}


def teardown_module() -> None:
    print("statuses:", dict(sorted(STATUSES.items())))


def test_no_server_errors(api_schema: Any, signer: Signer, base_url: str) -> None:
    """Every operation of the spec, 25 generated requests each (hypothesis strategies from
    schemathesis; its pytest plugin is not used, it breaks on pytest 9.2)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(base_url=base_url, auth=SignedAuth(signer))
            STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
            assert response.status_code < 500, (response.status_code, response.text[:500])
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"]

        check()
    assert sum(STATUSES.values()) >= len(operations)
