# ruff: noqa: E501  (the Node harnesses below are JavaScript)
"""The generated clients: the committed copy is up to date, the manifest is well formed, and
the generated Apps Script and Office.js code, run under Node with small shims, call the real
server (started on localhost) and get the Python registry's results."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import require
from live_server import Signer, live_server, new_signer
from lxml import etree

from addin.clients import generate, write_clients
from addin.clients.commands import clients_cmd
from addin.registry import ACTIONS, FUNCTIONS
from addin.server.settings import Settings
from addin.server.signing import KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "clients"
EXAMPLE_URL = "https://funnelplan.example.com"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

AS_OF = "2026-03-10"
DAYS = [[100.0 + 10 * i + j for j in range(10)] for i in range(3)]
CALLS: list[tuple[str, list[Any]]] = [
    ("RUNRATE", [DAYS, {"$date": AS_OF}]),  # 3 lines x 10 days: one forecast per line
    ("RUNRATE", [DAYS[:1], {"$date": AS_OF}, 3, "linear"]),
    ("CPA", [[[100.0], [50.0], [0.0], [30.0]], [[4.0], [0.0], [2.0], [None]]]),
    ("FUNNEL_PLAN", [10000, 0.5, [[0.05], [0.2]]]),
    ("CPA", [[[100.0], [50.0], [0.0], [30.0]], [[4.0], [0.0], [2.0], [None]]]),  # cached
]


def _python_args(args: list[Any]) -> list[Any]:
    return [dt.date.fromisoformat(a["$date"]) if isinstance(a, dict) else a for a in args]


def _expected(name: str, args: list[Any]) -> list[list[Any]]:
    """The registry's result as the clients return it (blank cells as "")."""
    fn = FUNCTIONS[name]
    values = _python_args(args)
    first = values[0]
    if fn.result == "scalar" and isinstance(first, list) and len(first) > 1 and len(first[0]) > 1:
        rows = [fn.call_cells([row], *values[1:])[0] for row in first]
    else:
        rows = fn.call_cells(*values)
    rows = json.loads(json.dumps(rows, default=str))
    return [["" if c is None else c for c in r] for r in rows]


# --------------------------------------------------------------------------- generated copy


def test_committed_clients_are_up_to_date(tmp_path: Path) -> None:
    write_clients(EXAMPLE_URL, tmp_path)
    fresh = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(COMMITTED).as_posix() for p in COMMITTED.rglob("*") if p.is_file()}
    assert committed == fresh, (
        "regenerate: funnelplan clients --url " + EXAMPLE_URL + " --out clients"
    )
    stale = [
        n for n in sorted(fresh) if (tmp_path / n).read_bytes() != (COMMITTED / n).read_bytes()
    ]
    assert not stale, (
        f"clients/ is stale ({stale}): funnelplan clients --url {EXAMPLE_URL} --out clients"
    )


def test_cli_writes_the_clients(tmp_path: Path) -> None:
    result = CliRunner().invoke(clients_cmd, ["--url", EXAMPLE_URL, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "apps-script" / "Code.gs").is_file()
    bad = CliRunner().invoke(clients_cmd, ["--url", "ftp://x", "--out", str(tmp_path)])
    assert bad.exit_code == 2


def test_generated_from_the_registry() -> None:
    files = generate(EXAMPLE_URL)
    code = files["apps-script/Code.gs"]
    assert isinstance(code, str)
    for fn in FUNCTIONS.values():
        assert f"function {fn.name}({', '.join(a.name for a in fn.args)}) {{" in code
    assert code.count("@customfunction") == len(FUNCTIONS)
    manifest = json.loads(str(files["apps-script/appsscript.json"]))
    assert sorted(s.rsplit("/", 1)[1] for s in manifest["oauthScopes"]) == [
        "drive.file",
        "script.container.ui",
        "script.external_request",
        "spreadsheets.currentonly",
    ]
    assert manifest["dependencies"]["enabledAdvancedServices"][0]["userSymbol"] == "Drive"
    meta = json.loads(str(files["office-js/functions.json"]))
    assert [f["id"] for f in meta["functions"]] == list(FUNCTIONS)
    for entry, fn in zip(meta["functions"], FUNCTIONS.values(), strict=True):
        assert [p["name"] for p in entry["parameters"]] == [a.name for a in fn.args]
        assert [p["optional"] for p in entry["parameters"]] == [a.optional for a in fn.args]


def test_manifest_is_well_formed() -> None:
    data = generate(EXAMPLE_URL)["office-js/manifest.xml"]
    assert isinstance(data, str)
    root = etree.fromstring(data.encode())
    ns = {
        "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
        "v": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
        "xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    }
    xsi_type = "{http://www.w3.org/2001/XMLSchema-instance}type"
    points = [e.get(xsi_type) for e in root.iterfind(".//v:ExtensionPoint", ns)]
    assert "CustomFunctions" in points and "PrimaryCommandSurface" in points
    assert root.find(".//v:Runtime[@lifetime='long']", ns) is not None
    assert root.find(".//o:Set[@Name='SharedRuntime']", ns) is not None
    functions = [e.text for e in root.iterfind(".//v:FunctionName", ns)]
    assert functions == list(ACTIONS)
    ids = {e.get("id") for e in root.iterfind(".//bt:*[@id]", ns)}
    used = {e.get("resid") for e in root.iter() if e.get("resid")}
    assert used <= ids, used - ids
    assert all(len(i) <= 32 for i in ids)


# --------------------------------------------------------------------------- under Node

APPS_SCRIPT_HARNESS = r"""
const fs = require('fs'), vm = require('vm'), crypto = require('crypto');
const { spawnSync } = require('child_process');
const spec = JSON.parse(fs.readFileSync(0, 'utf8'));
const FETCH = `
let input = ''; process.stdin.on('data', d => input += d);
process.stdin.on('end', async () => {
  const r = JSON.parse(input);
  const res = await fetch(r.url, {method: r.method, headers: r.headers, body: r.payload});
  const headers = {}; res.headers.forEach((v, k) => { headers[k] = v; });
  process.stdout.write(JSON.stringify({status: res.status, body: await res.text(), headers}));
});`;
const toBuf = (v) => Buffer.isBuffer(v) ? v : Array.isArray(v) ? Buffer.from(v.map(b => (b + 256) % 256)) : Buffer.from(String(v), 'utf8');
const signed = (buf) => Array.from(buf, b => (b > 127 ? b - 256 : b));
let requests = 0;
const menus = [], alerts = [], cacheStore = {}, sent = [], toasts = [], created = [];
const props = {FUNNELPLAN_URL: spec.url, FUNNELPLAN_KEY_ID: spec.keyId, FUNNELPLAN_SECRET: spec.secret};
if (spec.now) Date.now = () => spec.now;  // every request signed in the same second
const scriptCache = {get: (k) => (k in cacheStore ? cacheStore[k] : null), put: (k, v) => { cacheStore[k] = v; }};
const freshCache = () => ({get: () => null, put: () => {}});  // an empty cache per call
const ui = {
  ButtonSet: {OK: 'OK', OK_CANCEL: 'OK_CANCEL'}, Button: {OK: 'OK'},
  createMenu(title) {
    const menu = {title, items: []};
    return {addItem(label, fn) { menu.items.push([label, fn]); return this; },
            addSeparator() { menu.items.push(['-', null]); return this; },
            addToUi() { menus.push(menu); }};
  },
  alert(title, message) { alerts.push([title, message]); },
};
const context = {
  JSON, Math, Date, Array, String, Error, isFinite, console,
  PropertiesService: {getScriptProperties: () => ({getProperty: (k) => (k in props ? props[k] : null), setProperty: (k, v) => { props[k] = v; }})},
  CacheService: {getScriptCache: () => (spec.freshCache ? freshCache() : scriptCache)},
  SpreadsheetApp: {getUi: () => ui, getActiveSpreadsheet: () => ({
    getSpreadsheetTimeZone: () => 'UTC', getId: () => spec.sheetId || 'noSheetId0000',
    toast: (message, title) => { toasts.push([title, message]); }})},
  MimeType: {GOOGLE_SHEETS: 'application/vnd.google-apps.spreadsheet'},
  Drive: {Files: {create: (meta, blob) => {
    const bytes = toBuf(blob.getBytes());
    created.push({meta, size: bytes.length, zip: bytes.slice(0, 2).toString() === 'PK', type: blob.type, name: blob.name});
    return {id: 'newSpreadsheet' + created.length};
  }}},
  encodeURIComponent,
  Session: {getScriptTimeZone: () => 'UTC'},
  Utilities: {
    DigestAlgorithm: {SHA_256: 'sha256'}, Charset: {UTF_8: 'utf8'},
    newBlob: (data, type, name) => ({type, name, getBytes: () => (Array.isArray(data) ? data : signed(Buffer.from(data, 'utf8')))}),
    base64Decode: (text) => signed(Buffer.from(text, 'base64')),
    computeDigest: (alg, value) => signed(crypto.createHash(alg).update(toBuf(value)).digest()),
    computeHmacSha256Signature: (value, key) => signed(crypto.createHmac('sha256', toBuf(key)).update(toBuf(value)).digest()),
    getUuid: () => crypto.randomUUID(),
    formatDate: (date, tz, fmt) => { if (tz !== 'UTC' || fmt !== 'yyyy-MM-dd') throw new Error('shim'); return date.toISOString().slice(0, 10); },
  },
  UrlFetchApp: {
    fetch(url, options) {
      requests += 1;
      const headers = Object.assign({'Content-Type': options.contentType}, options.headers);
      sent.push(options.headers);
      const out = spawnSync(process.execPath, ['-e', FETCH], {input: JSON.stringify({url, method: options.method.toUpperCase(), headers, payload: options.payload}), encoding: 'utf8'});
      if (out.status !== 0) throw new Error('fetch failed: ' + out.stderr);
      const res = JSON.parse(out.stdout);
      if (res.status >= 400 && !options.muteHttpExceptions) throw new Error('HTTP ' + res.status);
      return {getResponseCode: () => res.status, getContentText: () => res.body, getHeaders: () => res.headers};
    },
  },
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(spec.code, 'utf8'), context, {filename: 'Code.gs'});
const arg = (a) => (a && typeof a === 'object' && a.$date ? new Date(a.$date + 'T00:00:00Z') : a);
const results = [];
for (const [name, args] of spec.calls) {
  const before = requests;
  results.push({values: context[name](...args.map(arg)), requests: requests - before});
}
context.onOpen();
const pressed = [];
for (const id of spec.actions || [menus[0].items[0][1].replace('funnelplanAction_', '')]) {
  const fn = menus[0].items.find(([, f]) => f === 'funnelplanAction_' + id)[1];
  pressed.push(context[fn]());
}
process.stdout.write(JSON.stringify({results, menus, alerts, sent, toasts, created, pressed}));
"""

OFFICE_HARNESS = r"""
const fs = require('fs'), vm = require('vm');
const spec = JSON.parse(fs.readFileSync(0, 'utf8'));
const registered = {};
const sent = [];
let requests = 0;
// without crypto.randomUUID (older browsers) the client falls back to getRandomValues
const webCrypto = spec.noRandomUUID
  ? {subtle: globalThis.crypto.subtle, getRandomValues: (a) => globalThis.crypto.getRandomValues(a)}
  : globalThis.crypto;
class CfError { constructor(code) { this.code = code; } }
const store = {'funnelplan.url': spec.url, 'funnelplan.keyId': spec.keyId, 'funnelplan.secret': spec.secret};
const context = {
  console, TextEncoder, crypto: webCrypto, btoa, Math, Date, JSON, Array, String, Number, Error, Uint8Array, Object,
  fetch: (url, init) => { requests += 1; sent.push(init.headers); return fetch(url, init); },
  localStorage: {getItem: (k) => (k in store ? store[k] : null)},
  CustomFunctions: {associate: (id, fn) => { registered[id] = fn; }, Error: CfError,
    ErrorCode: {invalidValue: '#VALUE!', divisionByZero: '#DIV/0!', notAvailable: '#N/A', invalidNumber: '#NUM!', nullReference: '#NULL!'}},
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(spec.code, 'utf8'), context, {filename: 'functions.js'});
const serial = (iso) => (Date.parse(iso + 'T00:00:00Z') - Date.UTC(1899, 11, 30)) / 86400000;
const arg = (a) => (a && typeof a === 'object' && a.$date ? serial(a.$date) : a);
(async () => {
  const results = [];
  for (const [name, args] of spec.calls) {
    const before = requests;
    const values = await registered[name](...args.map(arg));
    results.push({values: values.map(r => r.map(c => (c instanceof CfError ? c.code : c))), requests: requests - before});
  }
  process.stdout.write(JSON.stringify({results, registered: Object.keys(registered), sent}));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    require("Node.js", path is not None, "apt-get install nodejs (18 or later)")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> Signer:
    """One key for every run: the Apps Script and Office.js runs send identical requests, often
    within one second, and each request's own nonce keeps their signatures apart."""
    return new_signer(keys_dir, "clients")


@pytest.fixture(scope="module")
def server(keys_dir: Path) -> Iterator[str]:
    with live_server(Settings(keys_dir=keys_dir)) as base:
        yield base


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, server: str) -> Path:
    out = tmp_path_factory.mktemp("clients")
    write_clients(server, out)
    return out


def _run(node: str, harness: str, spec: dict[str, Any], tmp: Path) -> dict[str, Any]:
    script = tmp / "harness.js"
    script.write_text(harness)
    done = subprocess.run(
        [node, str(script)], input=json.dumps(spec), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_apps_script_under_node(
    node: str, server: str, signer: Signer, generated: Path, tmp_path: Path
) -> None:
    spec = {
        "code": str(generated / "apps-script" / "Code.gs"),
        "url": server,
        "keyId": signer.key_id,
        "secret": signer.secret,
        "calls": CALLS,
        "actions": [],
    }
    out = _run(node, APPS_SCRIPT_HARNESS, spec, tmp_path)
    for (name, args), got in zip(CALLS, out["results"], strict=True):
        assert got["values"] == _expected(name, args), name
    assert [r["requests"] for r in out["results"]] == [1, 1, 1, 1, 0]  # the last one cached
    assert out["results"][0]["values"] != [["#N/A"]] * 3
    nonces = [headers[NONCE_HEADER] for headers in out["sent"]]
    assert len(set(nonces)) == len(nonces) == 4
    assert all(UUID.fullmatch(n) for n in nonces)  # Utilities.getUuid()
    [menu] = out["menus"]
    assert menu["title"] == "Funnel Plan"
    assert [label for label, _ in menu["items"]][: len(ACTIONS)] == [
        a.label for a in ACTIONS.values()
    ]
    assert menu["items"][len(ACTIONS) + 1] == ["Server and key…", "funnelplanSetup"]


@pytest.mark.slow
@pytest.mark.parametrize("random_uuid", [True, False], ids=["randomUUID", "getRandomValues"])
def test_office_js_under_node(
    node: str, server: str, signer: Signer, generated: Path, tmp_path: Path, random_uuid: bool
) -> None:
    spec = {
        "code": str(generated / "office-js" / "functions.js"),
        "url": server,
        "keyId": signer.key_id,
        "secret": signer.secret,
        "calls": CALLS,
        "noRandomUUID": not random_uuid,
    }
    out = _run(node, OFFICE_HARNESS, spec, tmp_path)
    assert out["registered"] == list(FUNCTIONS)
    for (name, args), got in zip(CALLS, out["results"], strict=True):
        assert got["values"] == _expected(name, args), name
    assert [r["requests"] for r in out["results"]] == [1, 1, 1, 1, 0]  # the last one cached
    nonces = [headers[NONCE_HEADER] for headers in out["sent"]]
    assert len(set(nonces)) == len(nonces) == 4
    pattern = UUID if random_uuid else re.compile(r"[0-9a-f]{32}")
    assert all(pattern.fullmatch(n) for n in nonces), nonces


@pytest.mark.slow
def test_apps_script_identical_calls_in_one_second(
    node: str, server: str, signer: Signer, generated: Path, tmp_path: Path
) -> None:
    """Two identical uncached calls with the same key in the same second (the clock pinned, an
    empty cache per call): both answered, since each request carries its own nonce. Before the
    nonce they signed the same text and the server refused the second as a replay."""
    call = ("CPA", [[[100.0], [50.0], [0.0]], [[4.0], [0.0], [2.0]]])
    spec = {
        "code": str(generated / "apps-script" / "Code.gs"),
        "url": server,
        "keyId": signer.key_id,
        "secret": signer.secret,
        "calls": [call, call],
        "actions": [],
        "freshCache": True,
        "now": int(time.time()) * 1000 + 500,
    }
    out = _run(node, APPS_SCRIPT_HARNESS, spec, tmp_path)
    assert [r["requests"] for r in out["results"]] == [1, 1]
    for got in out["results"]:
        assert got["values"] == _expected(*call)
    first, second = out["sent"]
    for header in (KEY_HEADER, TIMESTAMP_HEADER):
        assert first[header] == second[header], header
    assert first[NONCE_HEADER] != second[NONCE_HEADER]
    assert first[SIGNATURE_HEADER] != second[SIGNATURE_HEADER]


@pytest.fixture(scope="module")
def demo_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo_cache import run_demo

    return run_demo(tmp_path_factory.mktemp("demo")).workbook


@pytest.mark.slow
def test_apps_script_menu_runs_buttons_on_the_sheet(
    node: str, generated: Path, demo_workbook: Path, tmp_path: Path
) -> None:
    """The menu's buttons under Node: the generated Code.gs calls a server that opens the sheet
    (a Sheets API double, a service account's real token exchange) and changes it; New Month's
    workbook is imported through the Drive shim; a key for another sheet gets the reason."""
    from sheets_double import SheetsDouble
    from sheets_double.seeding import seed_from_xlsx

    from addin.server.keys import KeyStore

    sheet_id = "1MenuTestSheet2026"
    with SheetsDouble() as double:
        double.require_auth = True
        seed_from_xlsx(double, sheet_id, demo_workbook, "ru_RU")
        settings = Settings(
            keys_dir=tmp_path / "keys",
            google_credentials=double.service_account_file(tmp_path),
            sheets_api_root=double.url,
            sync_dir=tmp_path / "sync",
        )
        bound = KeyStore(settings.keys_dir).create("menu", spreadsheet=sheet_id)
        other = KeyStore(settings.keys_dir).create("other", spreadsheet="1AnotherSheet000")
        with live_server(settings) as url:
            double.reset_log()
            spec = {
                "code": str(generated / "apps-script" / "Code.gs"),
                "url": url,
                "keyId": bound.id,
                "secret": bound.secret,
                "calls": [],
                "sheetId": sheet_id,
                "actions": ["refresh_runrate", "new_month"],
            }
            out = _run(node, APPS_SCRIPT_HARNESS, spec, tmp_path)
            log = list(double.log)
            refused = _run(
                node,
                APPS_SCRIPT_HARNESS,
                {**spec, "keyId": other.id, "secret": other.secret, "actions": ["sync_facts"]},
                tmp_path,
            )
    refresh, new_month = out["pressed"]
    assert refresh["message"].startswith("Run-rate refreshed as of")
    assert refresh["requests"] == 3
    # the server read the sheet and wrote the run-rate into it; New Month only reads it
    sheets_calls = [(m, p.rsplit("/", 1)[-1]) for m, p in log if p != "/token"]
    assert sheets_calls == [
        ("GET", sheet_id),
        ("GET", "values:batchGet"),
        ("POST", "values:batchUpdate"),
        ("GET", sheet_id),
        ("GET", "values:batchGet"),
    ], log
    assert out["alerts"][0] == [ACTIONS["refresh_runrate"].label, refresh["message"]]
    assert [t[1] for t in out["toasts"]] == ["Refresh Run-Rate…", "New Month…"]
    assert new_month["filename"].endswith("2026-12.xlsx") and new_month["created"]
    [made] = out["created"]
    assert made["zip"] and made["size"] > 10_000
    assert made["meta"] == {
        "name": new_month["filename"][: -len(".xlsx")],
        "mimeType": "application/vnd.google-apps.spreadsheet",
    }
    assert "https://docs.google.com/spreadsheets/d/newSpreadsheet1" in out["alerts"][1][1]
    [(title, message)] = refused["alerts"]
    assert title == "Sync Facts" and "may not run buttons on Google Sheet" in message
    assert "error" in refused["pressed"][0]
