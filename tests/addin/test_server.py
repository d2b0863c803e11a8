"""The function server started for real (uvicorn on a free localhost port), called over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from demo_cache import run_demo
from live_server import SignedClient, Signer, live_server, new_signer

from addin.registry import FUNCTIONS
from addin.server.keys import KeyStore
from addin.server.settings import Settings
from addin.server.signing import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from workbook_templates import layout as L

pytestmark = pytest.mark.slow

ORIGIN = "https://localhost:3000"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> Signer:
    return new_signer(keys_dir, "test workbook")


@pytest.fixture(scope="module")
def url(keys_dir: Path) -> Iterator[str]:
    settings = Settings(keys_dir=keys_dir, max_body_bytes=5 * 1024 * 1024, cors_origins=(ORIGIN,))
    with live_server(settings) as base:
        yield base


@pytest.fixture()
def client(url: str, signer: Signer) -> Iterator[SignedClient]:
    c = SignedClient(url, signer)
    yield c
    c.close()


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo")).workbook


def test_health_needs_no_key(url: str) -> None:
    unsigned = SignedClient(url, None)
    assert unsigned.request("GET", "/health").json() == {"status": "ok"}
    spec = unsigned.request("GET", "/openapi.json").json()
    assert "/functions/{name}" in spec["paths"] and "/actions/{action_id}" in spec["paths"]


def test_functions_lists_the_registry(client: SignedClient) -> None:
    r = client.request("GET", "/functions")
    assert r.status_code == 200
    names = [f["name"] for f in r.json()["functions"]]
    assert names == list(FUNCTIONS)
    assert {a["id"] for a in r.json()["actions"]} >= {"refresh_runrate", "apply_split"}


def _lines(n: int, days: int, seed: int = 1) -> list[list[float | str | None]]:
    rnd = random.Random(seed)
    rows: list[list[float | str | None]] = []
    for i in range(n):
        row: list[float | str | None] = [round(rnd.uniform(0, 1000), 2) for _ in range(days)]
        if i % 7 == 3:
            row[2] = None
        if i % 11 == 5:
            row[1] = "#DIV/0!"
        rows.append(row)
    return rows


def test_runrate_batch_equals_the_registry(client: SignedClient) -> None:
    lines = _lines(200, 12)
    r = client.call("RUNRATE", lines, "2026-11-12", 5, by_row=True)
    assert r.status_code == 200, r.text
    values = r.json()["values"]
    assert len(values) == len(lines)
    expected = [FUNCTIONS["RUNRATE"].call([line], dt.date(2026, 11, 12), 5) for line in lines]
    assert [row[0] for row in values] == pytest.approx(expected)
    assert "#DIV/0!" in {row[0] for row in values}  # an error value in a row stays a string


def test_single_call_equals_the_registry(client: SignedClient) -> None:
    line = [[10, 20, 30, 40, 50]]
    r = client.call("RUNRATE", line, "2026-11-05")
    assert r.json()["values"] == [[FUNCTIONS["RUNRATE"].call(line, dt.date(2026, 11, 5))]]


def test_whole_range_call_returns_one_row_per_line(client: SignedClient) -> None:
    value = [[120], [50], [7]]
    plan = [[100], [0], [14]]
    r = client.call("PLAN_PCT", value, plan)
    assert r.status_code == 200
    body = r.json()
    assert body["values"] == [[1.2], ["#DIV/0!"], [0.5]]
    assert body["message"] == "`plan` is 0"


def test_table_function_returns_rows(client: SignedClient) -> None:
    r = client.call("FUNNEL_PLAN", 100000, 50, [[0.1], [0.2]])
    assert r.status_code == 200, r.text
    expected = FUNCTIONS["FUNNEL_PLAN"].call_cells(100000, 50, [[0.1], [0.2]])
    assert r.json()["values"] == json.loads(json.dumps(expected))


def test_unknown_function_and_bad_arguments(client: SignedClient) -> None:
    r = client.call("NO_SUCH", 1)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_function"
    r = client.request(
        "POST",
        "/functions/RUNRATE",
        content=b'{"args": [{"a": 1}]}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.call("RUNRATE", [[1, 2], [3, 4]], [[1], [2], [3]], by_row=True)
    assert r.status_code == 422 and "different numbers of rows" in r.json()["error"]["message"]


def _plan_cells(data: bytes) -> dict[str, object]:
    ws = openpyxl.load_workbook(io.BytesIO(data))[L.PLAN]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row}


def test_action_returns_the_changed_workbook(client: SignedClient, demo_book: Path) -> None:
    original = demo_book.read_bytes()
    r = client.request(
        "POST", "/actions/apply_split", files={"workbook": (demo_book.name, original)}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert urllib.parse.unquote(r.headers["x-funnelplan-message"]).startswith("Apply Split")
    before, after = _plan_cells(original), _plan_cells(r.content)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    ws = openpyxl.load_workbook(demo_book)[L.PLAN]
    spend = next(
        c.column_letter for c in ws[L.PLAN_HEADER_ROW] if c.value == L.abs_header("spend", "p")
    )
    assert changed, "Apply Split changed nothing"
    # spend p, and every count p rescaled with it (Apply keeps each line's CPA and CRs)
    plan_p = {
        c.column_letter
        for c in ws[L.PLAN_HEADER_ROW]
        if isinstance(c.value, str) and c.value.endswith(" p") and c.value.count(" ") == 1
    }
    columns = {k.rstrip("0123456789") for k in changed}
    assert spend in columns and columns <= plan_p
    assert demo_book.read_bytes() == original  # the server worked on a copy


def test_failed_action_is_a_json_error(client: SignedClient, demo_book: Path) -> None:
    r = client.request(
        "POST", "/actions/sync_facts", files={"workbook": ("plan.xlsx", demo_book.read_bytes())}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == "action_failed"
    assert "an uploaded workbook does not bring" in r.json()["error"]["message"]
    r = client.request("POST", "/actions/apply_split", files={"workbook": ("x.xlsx", b"not a zip")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_workbook"
    r = client.request("POST", "/actions/no_such", files={"workbook": ("x.xlsx", b"")})
    assert r.status_code == 404


def test_too_big_body_is_413(client: SignedClient) -> None:
    big = json.dumps({"args": [[[1.0] * 1000] * 700]}).encode()  # ~ 4.2 MB of "1.0, "
    big = big + b" " * (6 * 1024 * 1024 - len(big))
    r = client.request(
        "POST", "/functions/RUNRATE", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        for _ in range(7):
            yield b" " * (1024 * 1024)

    r = client.http.post("/functions/RUNRATE", content=chunks())
    assert r.status_code == 413


def test_cors_preflight_from_the_office_origin(url: str) -> None:
    unsigned = SignedClient(url, None)
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-funnelplan-key,"
        "x-funnelplan-timestamp,x-funnelplan-nonce,x-funnelplan-signature",
    }
    r = unsigned.http.options("/functions/RUNRATE", headers=headers)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "x-funnelplan-signature" in allowed and "x-funnelplan-nonce" in allowed
    r = unsigned.http.options(
        "/functions/RUNRATE", headers={**headers, "Origin": "https://evil.test"}
    )
    assert r.headers.get("access-control-allow-origin") != "https://evil.test"


# --------------------------------------------------------------------------- auth


def _post(url: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    c = SignedClient(url, None)
    r = c.http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
    return r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else ""


BODY = json.dumps({"args": [[[1, 2, 3]], "2026-11-03"]}).encode()
PATH = "/functions/RUNRATE"


def test_missing_signature_refused(url: str, signer: Signer) -> None:
    assert _post(url, PATH, {}, BODY) == (401, "unauthenticated")
    headers = signer.headers("POST", PATH, BODY)
    del headers["X-Funnelplan-Signature"]
    assert _post(url, PATH, headers, BODY)[0] == 401


def test_missing_nonce_refused(url: str, signer: Signer) -> None:
    headers = signer.headers("POST", PATH, BODY)
    del headers[NONCE_HEADER]
    c = SignedClient(url, None)
    r = c.http.post(PATH, content=BODY, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 401
    error = r.json()["error"]
    assert error["code"] == "unauthenticated" and NONCE_HEADER in error["message"]
    # an empty nonce is a missing one
    headers = signer.headers("POST", PATH, BODY, nonce="")
    assert _post(url, PATH, headers, BODY) == (401, "unauthenticated")


@pytest.mark.parametrize(
    "nonce",
    ["abc", "1234567", "abc def ghi jkl", "nonce/with/slashes", "n" * 65, "ключ-ключ-ключ"],
)
def test_malformed_nonce_refused(url: str, signer: Signer, nonce: str) -> None:
    """Too short, too long, or a character outside A-Z a-z 0-9 _ - (even correctly signed)."""
    headers: dict[str, str | bytes] = {**signer.headers("POST", PATH, BODY, nonce=nonce)}
    headers[NONCE_HEADER] = nonce.encode()  # UTF-8 on the wire
    c = SignedClient(url, None)
    r = c.http.post(PATH, content=BODY, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 401
    error = r.json()["error"]
    assert error["code"] == "bad_nonce" and "8 to 64" in error["message"]


def test_nonces_of_8_to_64_characters_pass(url: str, signer: Signer) -> None:
    for nonce in ("a" * 8, "Z" * 64, str(uuid.uuid4()), "a_B-9" * 4):
        headers = signer.headers("POST", PATH, BODY, nonce=nonce)
        assert _post(url, PATH, headers, BODY) == (200, ""), nonce


def test_identical_requests_in_one_second_both_pass(url: str, signer: Signer) -> None:
    """The bug the nonce fixes: the same key, body, path and second used to sign the same
    text twice, and the second request was refused as a replay."""
    now = time.time()
    first = signer.headers("POST", PATH, BODY, now=now)
    second = signer.headers("POST", PATH, BODY, now=now)
    assert first[TIMESTAMP_HEADER] == second[TIMESTAMP_HEADER]
    assert first[NONCE_HEADER] != second[NONCE_HEADER]
    assert first[SIGNATURE_HEADER] != second[SIGNATURE_HEADER]
    assert _post(url, PATH, first, BODY) == (200, "")
    assert _post(url, PATH, second, BODY) == (200, "")


def test_signature_for_another_nonce_refused(url: str, signer: Signer) -> None:
    headers = signer.headers("POST", PATH, BODY, nonce="nonce-signed-for")
    headers[NONCE_HEADER] = "nonce-sent-instead"
    assert _post(url, PATH, headers, BODY) == (401, "bad_signature")


def test_wrong_signature_refused(url: str, signer: Signer) -> None:
    wrong = Signer(signer.key_id, "not-the-secret")
    assert _post(url, PATH, wrong.headers("POST", PATH, BODY), BODY) == (401, "bad_signature")
    # signed for another body, path or method
    headers = signer.headers("POST", PATH, BODY)
    assert _post(url, PATH, headers, BODY + b" ") == (401, "bad_signature")
    headers = signer.headers("POST", "/functions/PLAN_PCT", BODY)
    assert _post(url, PATH, headers, BODY) == (401, "bad_signature")
    # an unknown key is answered as a wrong signature: which key ids exist is not told
    unknown = Signer("fpk_0000000000000000", signer.secret)
    assert _post(url, PATH, unknown.headers("POST", PATH, BODY), BODY) == (401, "bad_signature")


def test_expired_timestamp_refused(url: str, signer: Signer) -> None:
    for skew in (-302, 302, -3600):  # 302: the timestamp is whole seconds, rounded down
        headers = signer.headers("POST", PATH, BODY, now=time.time() + skew)
        assert _post(url, PATH, headers, BODY) == (401, "expired")
    headers = signer.headers("POST", PATH, BODY, now=time.time() - 250)
    assert _post(url, PATH, headers, BODY) == (200, "")


def test_replayed_signature_refused(url: str, signer: Signer) -> None:
    """The same headers (the same nonce) sent twice: the second is a replay."""
    headers = signer.headers("POST", PATH, BODY)
    assert _post(url, PATH, headers, BODY) == (200, "")
    assert _post(url, PATH, headers, BODY) == (401, "replayed")
    for path in ("/functions", "/functions?x=1"):  # GET, no body
        headers = signer.headers("GET", path, b"")
        c = SignedClient(url, None)
        assert c.http.get(path, headers=headers).status_code == 200
        second = c.http.get(path, headers=headers)
        assert second.status_code == 401 and second.json()["error"]["code"] == "replayed"


def test_signature_covers_the_path_as_sent(url: str, signer: Signer) -> None:
    """Percent-encoded paths are signed as sent (the server does not decode them first)."""
    path = "/functions/%52UNRATE"  # RUNRATE, with its R percent-encoded
    assert _post(url, path, signer.headers("POST", path, BODY), BODY) == (200, "")
    decoded = signer.headers("POST", "/functions/RUNRATE", BODY)
    assert _post(url, path, decoded, BODY) == (401, "bad_signature")
    path = "/functions/%C3%A9t%C3%A9"  # été: an unknown function, but a valid signature
    assert _post(url, path, signer.headers("POST", path, BODY), BODY) == (404, "unknown_function")


def test_revoked_key_refused(url: str, keys_dir: Path) -> None:
    other = new_signer(keys_dir, "to revoke")
    assert _post(url, PATH, other.headers("POST", PATH, BODY), BODY) == (200, "")
    KeyStore(keys_dir).revoke(other.key_id)
    assert _post(url, PATH, other.headers("POST", PATH, BODY), BODY) == (403, "revoked_key")
    # signed without its secret: the answer of any wrong signature, not "revoked"
    guess = Signer(other.key_id, "guess")
    assert _post(url, PATH, guess.headers("POST", PATH, BODY), BODY) == (401, "bad_signature")


def test_every_endpoint_but_health_needs_a_key(url: str) -> None:
    c = SignedClient(url, None)
    assert c.request("GET", "/functions").status_code == 401
    assert (
        c.request("POST", "/actions/apply_split", files={"workbook": ("a.xlsx", b"")}).status_code
        == 401
    )
