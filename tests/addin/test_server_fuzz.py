"""The server's OpenAPI spec fuzzed with schemathesis against the live server: no 5xx, and the
signed operations' handlers really run (few 401s; 2xx and 4xx answers from each).

Every generated request is signed over exactly the bytes and the path it sends (the path as
sent, percent-encoded: the server verifies the raw path), with a fresh nonce, so identical
generated requests in one second are not refused as replays. Values schemathesis generates for
the four signing headers (they are security schemes in the spec) are dropped: the signature
sets them. Path parameters are mostly a known function or action (random names would all be
404), the action uploads are mostly a real small workbook named .xlsx (schemathesis names
the file part after the field, ``workbook``, which the server refuses before the action runs),
and the spreadsheet id is mostly a sheet in the Sheets API double that the fuzz key is bound to,
so the buttons run on a Google Sheet for real. The server's caps are set small (`base_url`)
and some uploads are zip bombs, so the limits answer (413) among the rest; the examples are
derandomized, so every run sends the same requests and reaches the same statuses.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import schemathesis  # a dev dependency: missing, the test fails instead of skipping
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_server import Signer, live_server, new_signer
from sheets_double import SheetsDouble
from sheets_double.seeding import seed_from_xlsx

from addin.registry import ACTIONS, FUNCTIONS, ActionContext, dispatch
from addin.server.settings import Settings
from addin.server.signing import KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from sheets_sync.workbooks.xlsx import save_atomic
from workbook_templates.plan_workbook import PlanWorkbookSpec, build_plan_workbook

pytestmark = pytest.mark.slow

SIGNING_HEADERS = {
    h.lower() for h in (KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
}
EXAMPLES = 40

# What each signed operation must answer at least once besides 401 (a status class or a status);
# an operation not listed here (one added later) must just answer something other than 401.
EXPECTED: dict[str, set[str]] = {
    "GET /functions": {"2xx"},
    "POST /functions/{name}": {"2xx", "422", "413"},  # 413: over the caps of `base_url`
    "POST /actions/{action_id}": {"2xx", "422", "413"},  # 413: the zip bomb of `_upload`
    "POST /sheets/{spreadsheet_id}/actions/{action_id}": {"2xx", "422"},
}
FUZZ_SHEET = "1FuzzPlanSheet2026"
"""A Google Sheet in the Sheets API double, seeded with `workbook`; the fuzz key is bound to it."""


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-keys")


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> Signer:
    return new_signer(keys_dir, "fuzz", spreadsheet=FUZZ_SHEET)


@pytest.fixture(scope="module")
def base_url(
    keys_dir: Path, workbook: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The live server, with a service account for the Sheets API double holding FUZZ_SHEET
    (the buttons on a sheet run for real) and an empty sync folder (Sync Facts: 422), and
    small caps the generated calls and uploads cross now and then (413): 100 cells, 5 stages
    and 3 channels a call, uploads of at most 4 times the workbook's unzipped size."""
    root = tmp_path_factory.mktemp("fuzz-google")
    (root / "plan.xlsx").write_bytes(workbook)
    (root / "sync").mkdir()
    with SheetsDouble(reads_per_minute=10_000, writes_per_minute=10_000) as double:
        double.require_auth = True
        seed_from_xlsx(double, FUZZ_SHEET, root / "plan.xlsx", "en_US")
        settings = Settings(
            keys_dir=keys_dir,
            max_body_bytes=1024 * 1024,
            google_credentials=double.service_account_file(root),
            sheets_api_root=double.url,
            sync_dir=root / "sync",
            max_cells=100,
            max_stages=5,
            max_channels=3,
            max_unzipped_bytes=4 * _unzipped(workbook),
        )
        with live_server(settings) as url:
            yield url


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


@pytest.fixture(scope="module")
def workbook() -> bytes:
    """A small planning workbook (2 lines, a week of facts, a split proposal): Refresh
    Run-Rate, Optimize Split, Apply Split and New Month run on it; Undo and Sync Facts refuse
    it (422: nothing to undo, no sync.toml)."""
    keys = [("Search", "Brand"), ("Social", "Prospecting")]
    lines = pd.DataFrame(keys, columns=["channel", "campaign"])
    lines["spend p"], lines["leads p"] = [31000, 62000], [310, 400]
    days = [dt.date(2026, 11, d) for d in range(1, 8)]
    daily = pd.DataFrame(
        [
            {"date": day, "channel": c, "campaign": k, "spend": 1000.0 + i, "leads": 10 + i}
            for i, day in enumerate(days)
            for c, k in keys
        ]
    )
    spec = PlanWorkbookSpec(month=days[0], lines=lines, daily=daily, as_of=days[-1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.xlsx"
        save_atomic(build_plan_workbook(spec), path)
        dispatch("optimize_split", ActionContext.of_file(path))  # the proposal Apply Split applies
        return path.read_bytes()


class SignedAuth(requests.auth.AuthBase):
    """Signs exactly the bytes and the path requests will send (a fresh timestamp and nonce
    per request)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body.encode() if isinstance(r.body, str) else r.body or b""
        assert isinstance(body, bytes)  # requests has made the body bytes by now
        r.headers.update(self.signer.headers(str(r.method), r.path_url, body))
        return r


def _mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy` 3 times in 4 (and in the simplest examples), else None: keep what
    schemathesis generated."""
    return st.tuples(st.integers(0, 3), strategy).map(lambda t: None if t[0] == 3 else t[1])


def _path_parameter(name: str) -> st.SearchStrategy[str | None] | None:
    """Mostly a known function (in any letter case) or action; else the generated value."""
    if name == "name":
        return _mostly(st.sampled_from(list(FUNCTIONS) + [n.lower() for n in FUNCTIONS]))
    if name == "action_id":
        return _mostly(st.sampled_from(list(ACTIONS)))
    if name == "spreadsheet_id":
        return _mostly(st.just(FUZZ_SHEET))
    return None


CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(["", "#DIV/0!", "#N/A", "last_n", "linear", "leads", "x"]),
    st.text(max_size=8),
)
SMALL_RANGES = st.lists(st.lists(CELLS, min_size=1, max_size=6), max_size=6)  # ragged too
RANGES = st.integers(0, 5).flatmap(  # 1 in 6: 120 cells, over every cap of `base_url`
    lambda i: st.just([[0.5]] * 120) if i == 0 else SMALL_RANGES
)
MOST_ARGS = max(len(f.args) for f in FUNCTIONS.values())
ARGS = _mostly(
    st.one_of(
        st.lists(st.one_of(CELLS, RANGES), max_size=MOST_ARGS),
        st.lists(st.one_of(CELLS, RANGES), min_size=MOST_ARGS + 1, max_size=32),  # too many
    )
)
"""Function arguments, cells and ranges: schemathesis mostly leaves the optional `args` out."""


def _unzipped(workbook: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        return sum(m.file_size for m in z.infolist())


def _bomb(workbook: bytes) -> bytes:
    """The workbook with one more member: 10 times its unzipped size of XML, deflated to little
    (a zip bomb the server must refuse, 413, before opening it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(buf, "w") as out:
        for member in src.infolist():
            out.writestr(member, src.read(member))
        padding = b"<row/>" * (10 * _unzipped(workbook) // 6)
        out.writestr("xl/padding.xml", padding, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _upload(workbook: bytes) -> st.SearchStrategy[tuple[str, bytes] | None]:
    """The workbook part: 1 time in 2 the real workbook as plan.xlsx, 3 in 8 a zip bomb made
    of it, else random bytes under a random name (.xlsx or not) or None (schemathesis' own
    part, named ``workbook``)."""
    names = st.one_of(
        st.sampled_from(["Plan Nov 2026.XLSX", "../../etc/plan.xlsx", "plan.csv", ".xlsx"]),
        st.text(max_size=20).map(lambda s: s + ".xlsx"),
        st.text(max_size=20),
    )
    random_part = st.tuples(names, st.one_of(st.binary(max_size=2000), st.just(workbook[:999])))
    bomb = ("plan.xlsx", _bomb(workbook))
    return st.integers(0, 7).flatmap(
        lambda i: (
            st.just(("plan.xlsx", workbook))
            if i < 4
            else st.just(bomb)
            if i < 7
            else st.one_of(random_part, st.none())
        )
    )


STATUSES: dict[str, Counter[int]] = {}


def _histogram() -> str:
    return "\n".join(f"  {op}: {dict(sorted(c.items()))}" for op, c in STATUSES.items())


def teardown_module() -> None:
    print("statuses per operation:\n" + _histogram())


def _fuzz(
    operation: Any, base_url: str, auth: SignedAuth, workbook: bytes, statuses: Counter[int]
) -> None:
    """`EXAMPLES` generated requests to `operation`, signed; their statuses into `statuses`."""
    overrides = {}
    for param in operation.definition.raw.get("parameters", []):
        strategy = _path_parameter(param["name"]) if param.get("in") == "path" else None
        if strategy is not None:
            overrides[param["name"]] = strategy
    session = requests.Session()

    @given(
        case=operation.as_strategy(),
        path=st.fixed_dictionaries(overrides),
        args=ARGS,
        upload=_upload(workbook),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: each expected status is reached
        suppress_health_check=list(HealthCheck),
    )
    def check(
        case: Any,
        path: dict[str, str | None],
        args: list[Any] | None,
        upload: tuple[str, bytes] | None,
    ) -> None:
        if case.headers:  # generated values of the signing headers (security schemes)
            for name in [n for n in case.headers if n.lower() in SIGNING_HEADERS]:
                del case.headers[name]
        for name, value in path.items():
            if value is not None:
                case.path_parameters[name] = value
        kwargs: dict[str, Any] = {}
        body = case.body if isinstance(case.body, dict) else None
        if body is not None and "workbook" in body and upload is not None:
            kwargs["files"] = {"workbook": upload}
        elif body is not None and "workbook" not in body and args is not None:
            body["args"] = args
        response = case.call(base_url=base_url, session=session, auth=auth, **kwargs)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (response.status_code, response.text[:500])
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"]

    try:
        check()
    finally:
        session.close()


def test_no_server_errors(api_schema: Any, signer: Signer, base_url: str, workbook: bytes) -> None:
    """Every operation of the spec, 40 generated requests each (hypothesis strategies from
    schemathesis; its pytest plugin is not used, it breaks on pytest 9.2): no 5xx, and each
    signed operation's handler answers (few 401s, the statuses of `EXPECTED`)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations
    auth = SignedAuth(signer)
    labels = {}
    for operation in operations:
        label = labels[id(operation)] = f"{operation.method.upper()} {operation.path}"
        _fuzz(operation, base_url, auth, workbook, STATUSES.setdefault(label, Counter()))
    print("statuses per operation:\n" + _histogram())

    for operation in operations:
        label = labels[id(operation)]
        statuses = STATUSES[label]
        total = sum(statuses.values())
        assert total >= 10 or label == "GET /health", f"{label}: {total} requests\n{_histogram()}"
        if not operation.definition.raw.get("security"):
            continue
        refused = statuses[401]
        assert refused < 0.1 * total, f"{label}: {refused} of {total} refused 401\n{_histogram()}"
        seen = {f"{s // 100}xx" for s in statuses} | {str(s) for s in statuses}
        missing = EXPECTED.get(label, set()) - seen
        assert not missing, f"{label}: never answered {missing}\n{_histogram()}"
        assert set(statuses) - {401}, f"{label}: only 401s\n{_histogram()}"
