"""The server's limits and refusals against a real server on a real port: the signature checked
before the body is parsed, caps on cells / stages / channels, a zip bomb refused, the time limit,
odd headers and file names answered 4xx, refusals logged in one line without telling which keys
exist, and the replay cache kept private. Every input is built here from its description."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from demo_cache import run_demo
from live_server import SignedClient, Signer, free_port, live_server, new_signer

from addin.server.keys import KeyStore
from addin.server.settings import Settings
from addin.server.signing import SIGNATURE_HEADER

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PATH = "/functions/RUNRATE"
BODY = json.dumps({"args": [[[1, 2, 3]], "2026-11-03"]}).encode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limit-keys")


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> Signer:
    return new_signer(keys_dir, "limits")


@pytest.fixture(scope="module")
def url(keys_dir: Path) -> Iterator[str]:
    settings = Settings(
        keys_dir=keys_dir,
        max_body_bytes=6 * 1024 * 1024,
        max_cells=20_000,
        max_unzipped_bytes=8 * 1024 * 1024,
        time_limit=3.0,
    )
    with live_server(settings) as base:
        yield base


@pytest.fixture()
def client(url: str, signer: Signer) -> Iterator[SignedClient]:
    c = SignedClient(url, signer)
    yield c
    c.close()


def _unsigned(url: str) -> SignedClient:
    return SignedClient(url, None)


def _error(r: object) -> tuple[int, str]:
    status = r.status_code  # type: ignore[attr-defined]
    return status, r.json()["error"]["code"]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- item 1


def test_unsigned_body_is_not_parsed(url: str) -> None:
    """Broken JSON without a signature: 401 (the signature is checked first); it was 422, the
    body parsed before the signature was looked at."""
    r = _unsigned(url).http.post(PATH, content=b'{"args": [[[1, 2', headers=JSON)
    assert _error(r) == (401, "unauthenticated")
    # 5 MiB of small elements, signed with a wrong key: refused without being parsed
    many = b'{"args": [[' + b",".join([b"[0]"] * 1_300_000) + b"]]}"
    assert len(many) > 5_000_000
    wrong = Signer("fpk_0000000000000000", "guess")
    r = _unsigned(url).http.post(
        PATH, content=many, headers={**JSON, **wrong.headers("POST", PATH, many)}
    )
    assert _error(r) == (401, "bad_signature")


# --------------------------------------------------------------------------- item 2: caps


def test_funnel_stages_capped(client: SignedClient) -> None:
    """100 stages (99 CRs) pass, 101 are 413 naming the argument and the cap."""
    ok = client.call("FUNNEL_PLAN", 100000, 50, [[0.9]] * 99)
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["values"]) >= 100
    r = client.call("FUNNEL_PLAN", 100000, 50, [[0.9]] * 100)
    assert _error(r) == (413, "too_large")
    message = r.json()["error"]["message"]
    assert "argument 3 (crs) makes 101 stages; at most 100" in message
    r = client.call("BUDGET_FOR", 10, [[0.9] * 100], 50)  # a row of CRs counts the same
    assert _error(r) == (413, "too_large")


def test_split_channels_capped(client: SignedClient) -> None:
    names = [[f"ch{i}"] for i in range(501)]
    r = client.call("OPTIMIZE_SPLIT", names, [[100]] * 501, 50000, [["linear", 10, 1000]])
    assert _error(r) == (413, "too_large")
    assert "501 channels; at most 500" in r.json()["error"]["message"]
    r = client.call("SCENARIO", names, [[100]] * 501, [["linear", 10, 1000]])
    assert _error(r) == (413, "too_large")


def test_cells_capped(client: SignedClient) -> None:
    """20,000 cells (the fixture's cap) pass; one more is 413, before the function runs."""
    lines = [[1.0] * 20 for _ in range(999)] + [[1.0] * 19]
    assert sum(len(x) for x in lines) + 1 == 20_000  # + the date cell
    assert client.call("RUNRATE", lines, "2026-11-20", by_row=True).status_code == 200
    lines[-1].append(1.0)
    r = client.call("RUNRATE", lines, "2026-11-20", by_row=True)
    assert _error(r) == (413, "too_large")
    assert "20,001 cells; at most 20,000" in r.json()["error"]["message"]


def _bomb(unzipped: int) -> bytes:
    """An .xlsx-shaped zip whose one sheet is `unzipped` bytes of XML that deflate to little."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        row = b'<row><c t="n"><v>0</v></c></row>'
        z.writestr("xl/worksheets/sheet1.xml", row * (unzipped // len(row)))
    return buf.getvalue()


def test_zip_bomb_refused(client: SignedClient) -> None:
    """A 9 MB sheet in a zip of a few KB: over the fixture's 8 MiB cap, 413 before openpyxl."""
    bomb = _bomb(9 * 1024 * 1024)
    assert len(bomb) < 100_000
    started = time.perf_counter()
    r = client.request("POST", "/actions/refresh_runrate", files={"workbook": ("b.xlsx", bomb)})
    assert _error(r) == (413, "too_large")
    assert "unzipped; at most 8,388,608" in r.json()["error"]["message"]
    assert time.perf_counter() - started < 3  # refused, not opened
    small = _bomb(100_000)  # under the cap: opened, and refused as no workbook (400)
    r = client.request("POST", "/actions/refresh_runrate", files={"workbook": ("s.xlsx", small)})
    assert r.status_code == 400


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("limit-demo")).workbook


def test_time_limit(keys_dir: Path, signer: Signer, demo_book: Path) -> None:
    """Past a 0.02 s limit: OPTIMIZE_SPLIT over 500 channels (the cap; 0.2-1.8 s here, so a
    0.3 s limit was flaky once the optimizer got faster) and New Month on an uploaded workbook
    are 504, and the button's worker process is gone (killed, its memory with it)."""
    import multiprocessing

    n = 500
    names = [[f"ch{i}"] for i in range(n)]
    curves = [["hill", 100 + i, 1000 + 3 * i, 1 + (i % 3) / 10] for i in range(n)]
    with live_server(Settings(keys_dir=keys_dir, time_limit=0.02)) as base:
        c = SignedClient(base, signer)
        started = time.perf_counter()
        r = c.call("OPTIMIZE_SPLIT", names, [[100]] * n, 60000, curves)
        assert r.status_code == 504, (r.status_code, r.text[:300])
        assert _error(r) == (504, "too_slow")
        assert "limit of 0.02 s" in r.json()["error"]["message"]
        assert time.perf_counter() - started < 1.5  # answered at the limit, not at the end
        data = demo_book.read_bytes()
        r = c.request("POST", "/actions/new_month", files={"workbook": ("plan.xlsx", data)})
        assert _error(r) == (504, "too_slow")
        deadline = time.monotonic() + 5
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not multiprocessing.active_children()


# --------------------------------------------------------------------------- item 3


def test_non_ascii_signature_is_401(
    url: str, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [
        (k.encode(), v.encode())
        for k, v in {**signer.headers("POST", PATH, BODY), **JSON}.items()
        if k != SIGNATURE_HEADER
    ]
    headers.append((SIGNATURE_HEADER.encode(), "подпись".encode()))  # UTF-8 on the wire
    with caplog.at_level(logging.INFO, logger="funnelplan.server"):
        r = _unsigned(url).http.post(PATH, content=BODY, headers=headers)
    assert _error(r) == (401, "bad_signature")
    lines = [rec for rec in caplog.records if rec.name == "funnelplan.server"]
    assert len(lines) == 1 and not lines[0].exc_info


def test_long_file_name_is_400(client: SignedClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="funnelplan.server"):
        r = client.request(
            "POST", "/actions/refresh_runrate", files={"workbook": ("p" * 300 + ".xlsx", b"x")}
        )
    assert _error(r) == (400, "bad_workbook")
    assert "305 characters long; at most 120" in r.json()["error"]["message"]
    lines = [rec for rec in caplog.records if rec.name == "funnelplan.server"]
    assert len(lines) == 1 and not lines[0].exc_info


# --------------------------------------------------------------------------- item 4


def test_unknown_revoked_and_wrong_answer_alike(url: str, keys_dir: Path, signer: Signer) -> None:
    """An unknown key, a revoked key signed wrongly and a wrong signature: one answer."""
    revoked = new_signer(keys_dir, "revoked")
    KeyStore(keys_dir).revoke(revoked.key_id)
    answers = []
    for who in (
        Signer("fpk_0123456789abcdef", "guess"),
        Signer(revoked.key_id, "guess"),
        Signer(signer.key_id, "guess"),
    ):
        r = _unsigned(url).http.post(
            PATH, content=BODY, headers={**JSON, **who.headers("POST", PATH, BODY)}
        )
        answers.append((r.status_code, r.content))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    # the holder of the revoked key's secret is told it was revoked
    r = _unsigned(url).http.post(
        PATH, content=BODY, headers={**JSON, **revoked.headers("POST", PATH, BODY)}
    )
    assert _error(r) == (403, "revoked_key")


def test_refusals_logged_without_secrets(
    url: str, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    headers = Signer("fpk_feedfeedfeedfeed", "guess").headers("POST", PATH, BODY)
    with caplog.at_level(logging.INFO, logger="funnelplan.server"):
        _unsigned(url).http.post(PATH, content=BODY, headers={**JSON, **headers})
        SignedClient(url, signer).call("FUNNEL_PLAN", 1, 1, [[0.5]] * 200)
    text = [r.getMessage() for r in caplog.records if r.name == "funnelplan.server"]
    assert len(text) == 2, text
    assert "401 unknown_key key=fpk_feedfeedfeedfeed client=127.0.0.1" in text[0]
    assert "413 too_large" in text[1] and signer.key_id in text[1]
    assert headers[SIGNATURE_HEADER] not in " ".join(text) and "args" not in " ".join(text)


def test_replay_cache_is_private(tmp_path: Path) -> None:
    """A keys folder made 0755 and an old 0644 cache: after a request, 0700 and 0600."""
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    signer = new_signer(folder, "private")
    (folder / "replay.sqlite").touch(mode=0o644)
    os.chmod(folder, 0o755)
    with live_server(Settings(keys_dir=folder)) as base:
        assert SignedClient(base, signer).request("GET", "/functions").status_code == 200
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = [p for p in folder.iterdir() if p.name.startswith("replay.sqlite")]
    assert {p.name for p in files} >= {"replay.sqlite", "replay.sqlite-wal"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_serve_logs_refusals(tmp_path: Path) -> None:
    """`funnelplan serve` shows a refused request in one line on its log (it showed none)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "addin.cli", "serve", "--port", str(port)]
    command += ["--keys-dir", str(tmp_path / "k")]
    server = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
            time.sleep(0.2)
        assert (
            httpx.get(f"{base}/functions", headers={"X-Funnelplan-Key": "fpk_x"}).status_code == 401
        )
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    lines = [x for x in err.decode().splitlines() if "refused" in x]
    assert len(lines) == 1, err.decode()
    assert "refused GET /functions: 401 unauthenticated key=fpk_x client=127.0.0.1" in lines[0]
