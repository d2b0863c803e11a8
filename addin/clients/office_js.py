"""The Excel on the web client: an Office.js add-in generated from the registry.

Files: ``manifest.xml`` (XML manifest, written by `office_manifest`: the custom-functions extension
point, a shared runtime, a ribbon tab with the registry's buttons and a Settings button),
``functions.json`` (custom-functions metadata), ``functions.js`` (the functions and the buttons),
``functions.html`` (the shared runtime's page, also the settings pane), icons and ``SETUP.md``.

The add-in's files are served from ``ADDIN_URL`` (default ``URL/addin/``); the functions call
the server at ``URL`` (its CORS origins must include the add-in's origin). A button sends the
open workbook (``Office.context.document.getFileAsync``) to ``POST /actions/{id}`` and opens the
changed workbook the server returns (``Excel.createWorkbook``) for the user to save.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any
from xml.sax.saxutils import quoteattr

from addin.clients.common import (
    CACHE_SECONDS,
    KEY_LABEL,
    actions,
    base_url,
    function_specs,
    functions,
    js,
)
from addin.clients.office_manifest import NAMESPACE, addin_base, manifest
from addin.registry import SheetFunction

_SCALAR_KINDS = {"number", "date", "text", "bool"}
_TYPES = {"number": "number", "date": "any", "text": "string", "bool": "boolean"}


def metadata() -> dict[str, Any]:
    out = []
    for f in functions():
        params = []
        for a in f.args:
            scalar = a.kind in _SCALAR_KINDS
            params.append(
                {
                    "name": a.name,
                    "description": a.help,
                    "type": _TYPES.get(a.kind, "any") if scalar else "any",
                    "dimensionality": "scalar" if scalar else "matrix",
                    "optional": a.optional,
                }
            )
        out.append(
            {
                "id": f.name,
                "name": f.name,
                "description": f.help,
                "parameters": params,
                "result": {"type": "any", "dimensionality": "matrix"},
            }
        )
    return {"functions": out}


def _png(size: int) -> bytes:
    """A plain square icon (the brand colour)."""
    row = b"\x00" + bytes((31, 95, 168)) * size
    raw = row * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _wrapper(fn: SheetFunction) -> str:
    params = ", ".join(a.name for a in fn.args)
    return (
        f"async function {fn.name}({params}) {{\n"
        f"  return funnelplanCall({js(fn.name)}, [{params}]);\n"
        "}\n"
        f"CustomFunctions.associate({js(fn.name)}, {fn.name});"
    )


_RUNTIME = r"""
const FUNNELPLAN_DEFAULT_URL = __URL__;
const FUNNELPLAN_FUNCTIONS = __SPECS__;
const FUNNELPLAN_ACTIONS = __ACTIONS__;
const FUNNELPLAN_LABEL = __LABEL__;
const FUNNELPLAN_CACHE_SECONDS = __CACHE__;
const FUNNELPLAN_ERRORS = {
  "#VALUE!": "invalidValue",
  "#DIV/0!": "divisionByZero",
  "#N/A": "notAvailable",
  "#NUM!": "invalidNumber",
  "#NULL!": "nullReference",
};

/** Settings kept in the add-in's storage (the Settings pane writes them). */
function funnelplanSettings() {
  const store = globalThis.localStorage;
  const get = (name) => (store ? store.getItem(name) : null);
  const url = (get("funnelplan.url") || FUNNELPLAN_DEFAULT_URL).replace(/\/+$/, "");
  const keyId = get("funnelplan.keyId");
  const secret = get("funnelplan.secret");
  if (!keyId || !secret) {
    throw new Error("Funnel Plan: set the API key in Funnel Plan > Settings");
  }
  return { url, keyId, secret };
}

const funnelplanEncoder = new TextEncoder();

function funnelplanHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function funnelplanHmac(keyBytes, data) {
  const key = await crypto.subtle.importKey(
    "raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", key, data);
}

/** A fresh nonce per request: a random UUID, or 16 random bytes as hex. */
function funnelplanNonce() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return funnelplanHex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The four signature headers (see the server's signing module); `body` is bytes. The nonce
 * makes two identical requests in the same second sign differently (both are accepted).
 */
async function funnelplanSign(settings, method, path, body) {
  const signingKey = await funnelplanHmac(
    funnelplanEncoder.encode(settings.secret),
    funnelplanEncoder.encode(FUNNELPLAN_LABEL + settings.keyId));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = funnelplanNonce();
  const digest = funnelplanHex(await crypto.subtle.digest("SHA-256", body));
  const text = `${method}\n${path}\n${timestamp}\n${nonce}\n${digest}`;
  const signature = await funnelplanHmac(signingKey, funnelplanEncoder.encode(text));
  return {
    "X-Funnelplan-Key": settings.keyId,
    "X-Funnelplan-Timestamp": timestamp,
    "X-Funnelplan-Nonce": nonce,
    "X-Funnelplan-Signature": funnelplanHex(signature),
  };
}

function funnelplanCell(value) {
  if (value === "" || value === undefined) return null;
  if (typeof value === "number" && !Number.isFinite(value)) return "#NUM!";
  return value;
}

function funnelplanArg(value) {
  if (Array.isArray(value)) {
    return value.map((row) =>
      (Array.isArray(row) ? row.map(funnelplanCell) : [funnelplanCell(row)]));
  }
  return funnelplanCell(value);
}

function funnelplanOut(cell) {
  if (cell === null) return "";
  const code = typeof cell === "string" ? FUNNELPLAN_ERRORS[cell] : undefined;
  if (code && typeof CustomFunctions !== "undefined" && CustomFunctions.Error) {
    return new CustomFunctions.Error(CustomFunctions.ErrorCode[code]);
  }
  return cell;
}

const funnelplanCache = new Map();

/**
 * One call: every argument (whole ranges) in one signed request; the result as rows. Identical
 * calls (in flight or answered within the last minutes) share one request: identical formulas
 * often recalculate together, and one answer serves them all.
 */
function funnelplanCall(name, values) {
  const key = name + "\n" + JSON.stringify(values);
  const now = Date.now();
  const hit = funnelplanCache.get(key);
  if (hit && hit.expires > now) return hit.result;
  const result = funnelplanRequest(name, values);
  funnelplanCache.set(key, { result, expires: now + FUNNELPLAN_CACHE_SECONDS * 1000 });
  result.catch(() => funnelplanCache.delete(key));
  if (funnelplanCache.size > 500) funnelplanCache.delete(funnelplanCache.keys().next().value);
  return result;
}

async function funnelplanRequest(name, values) {
  const args = values.map(funnelplanArg);
  while (args.length && args[args.length - 1] === null) args.pop();
  const first = args[0];
  const byRow = FUNNELPLAN_FUNCTIONS[name].result === "scalar" && Array.isArray(first) &&
    first.length > 1 && first[0].length > 1;
  const body = funnelplanEncoder.encode(JSON.stringify({ args, by_row: byRow }));
  const settings = funnelplanSettings();
  const path = `/functions/${name}`;
  const headers = await funnelplanSign(settings, "POST", path, body);
  headers["Content-Type"] = "application/json";
  const response = await fetch(settings.url + path, { method: "POST", headers, body });
  let data;
  try {
    data = await response.json();
  } catch (e) {
    throw new Error(`Funnel Plan server: HTTP ${response.status}`);
  }
  if (!response.ok) {
    const reason = data && data.error ? data.error.message : response.status;
    throw new Error(`Funnel Plan server: ${reason}`);
  }
  return data.values.map((row) => row.map(funnelplanOut));
}

/** The open workbook as .xlsx bytes (Office.context.document.getFileAsync, in slices). */
function funnelplanWorkbookBytes() {
  return new Promise((resolve, reject) => {
    const options = { sliceSize: 4194304 };
    Office.context.document.getFileAsync(Office.FileType.Compressed, options, (result) => {
      if (result.status !== Office.AsyncResultStatus.Succeeded) return reject(result.error);
      const file = result.value;
      const parts = [];
      const next = (i) => {
        if (i >= file.sliceCount) {
          file.closeAsync();
          const size = parts.reduce((n, p) => n + p.length, 0);
          const out = new Uint8Array(size);
          let at = 0;
          for (const p of parts) { out.set(p, at); at += p.length; }
          return resolve(out);
        }
        file.getSliceAsync(i, (slice) => {
          if (slice.status !== Office.AsyncResultStatus.Succeeded) {
            file.closeAsync();
            return reject(slice.error);
          }
          parts.push(Uint8Array.from(slice.value.data));
          next(i + 1);
        });
      };
      next(0);
    });
  });
}

function funnelplanBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 32768) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
  }
  return btoa(text);
}

/** A button: upload the workbook to POST /actions/{id}, open the changed workbook it returns. */
async function funnelplanRunAction(id, workbook) {
  const settings = funnelplanSettings();
  const boundary = "funnelplan" + Math.random().toString(16).slice(2);
  const head = funnelplanEncoder.encode(
    `--${boundary}\r\n` +
    'Content-Disposition: form-data; name="workbook"; filename="workbook.xlsx"\r\n' +
    "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n");
  const tail = funnelplanEncoder.encode(`\r\n--${boundary}--\r\n`);
  const body = new Uint8Array(head.length + workbook.length + tail.length);
  body.set(head, 0);
  body.set(workbook, head.length);
  body.set(tail, head.length + workbook.length);
  const path = `/actions/${id}`;
  const headers = await funnelplanSign(settings, "POST", path, body);
  headers["Content-Type"] = `multipart/form-data; boundary=${boundary}`;
  const response = await fetch(settings.url + path, { method: "POST", headers, body });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  const message = decodeURIComponent(response.headers.get("X-Funnelplan-Message") || "");
  const changed = new Uint8Array(await response.arrayBuffer());
  return { message, workbook: changed };
}

function funnelplanAction(id) {
  return async (event) => {
    try {
      const result = await funnelplanRunAction(id, await funnelplanWorkbookBytes());
      await Excel.createWorkbook(funnelplanBase64(result.workbook));
      funnelplanNotify(result.message + " The changed workbook opened in a new window: save it.");
    } catch (error) {
      funnelplanNotify(`${id}: ${error && error.message ? error.message : error}`);
    } finally {
      if (event && event.completed) event.completed();
    }
  };
}

function funnelplanNotify(message) {
  const el = globalThis.document && globalThis.document.getElementById("funnelplan-message");
  if (el) el.textContent = message;
  if (globalThis.console) console.log(message);
}

if (typeof Office !== "undefined" && Office.actions) {
  Office.onReady(() => {
    for (const action of FUNNELPLAN_ACTIONS) {
      Office.actions.associate(action.id, funnelplanAction(action.id));
    }
  });
}
"""


def functions_js(url: str) -> str:
    action_list = [{"id": a.id, "label": a.label} for a in actions()]
    runtime = (
        _RUNTIME.replace("__URL__", js(base_url(url)))
        .replace("__SPECS__", js(function_specs()))
        .replace("__ACTIONS__", js(action_list))
        .replace("__LABEL__", js(KEY_LABEL))
        .replace("__CACHE__", str(CACHE_SECONDS))
    )
    header = (
        "// Funnel Plan for Excel. GENERATED by `funnelplan clients` from the function\n"
        "// registry: do not edit; regenerate instead.\n"
    )
    wrappers = "\n\n".join(_wrapper(f) for f in functions())
    return f"{header}{runtime}\n{wrappers}\n"


def functions_html(url: str) -> str:
    return f"""<!doctype html>
<!-- Funnel Plan for Excel: the shared runtime's page and the Settings pane. GENERATED. -->
<html>
<head>
  <meta charset="utf-8">
  <title>Funnel Plan</title>
  <script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>
  <script src="https://appsforoffice.microsoft.com/lib/1/hosted/custom-functions-runtime.js"></script>
  <script src="functions.js"></script>
</head>
<body style="font-family: sans-serif; font-size: 14px">
  <h3>Funnel Plan</h3>
  <form id="settings" onsubmit="return saveSettings()">
    <p><label>Server URL<br><input id="url" size="40" value={quoteattr(base_url(url))}></label></p>
    <p><label>API key id<br><input id="keyId" size="40"></label></p>
    <p><label>API key secret<br><input id="secret" size="40" type="password"></label></p>
    <p><button type="submit">Save</button></p>
  </form>
  <p id="funnelplan-message"></p>
  <script>
    for (const name of ["url", "keyId"]) {{
      const value = localStorage.getItem("funnelplan." + name);
      if (value) document.getElementById(name).value = value;
    }}
    function saveSettings() {{
      for (const name of ["url", "keyId", "secret"]) {{
        const value = document.getElementById(name).value.trim();
        if (value) localStorage.setItem("funnelplan." + name, value);
      }}
      document.getElementById("funnelplan-message").textContent = "Saved.";
      return false;
    }}
  </script>
</body>
</html>
"""


def setup(url: str, addin_url: str | None = None) -> str:
    host = addin_base(url, addin_url)
    items = "\n".join(f"- **{a.label}**: {a.help}" for a in actions())
    return f"""# Funnel Plan for Excel on the web: setup

Generated by `funnelplan clients` for the server `{base_url(url)}`; the add-in's files are
served from `{host}/`.

1. Host this folder (`manifest.xml` aside) over HTTPS at `{host}/` (any static host, or the
   server's reverse proxy). Add the add-in's origin to the server's CORS origins
   (`FUNNELPLAN_CORS_ORIGINS`).
2. In Excel on the web: **Home > Add-ins > More add-ins > Upload my add-in** and choose
   `manifest.xml` (an admin can deploy it to everyone from the Microsoft 365 admin centre).
3. **Funnel Plan > Settings**: enter the API key id and secret from
   `funnelplan keys create "my workbook"`. They are kept in the add-in's browser storage.
   Requests are signed (HMAC-SHA256 over the request, a timestamp and a fresh random nonce);
   the secret is never sent.

Functions are `={NAMESPACE}.RUNRATE(...)`, `={NAMESPACE}.CPA(...)`, etc.; each formula sends its
whole ranges in one request. The buttons upload the workbook to the server, which runs the
action on a copy, and open the changed workbook in a new window for you to save:

{items}

Sync Facts needs the team's exports and sync config, which an uploaded copy does not bring: run
it from the Excel desktop add-in or with `funnelplan sync` where the exports are (the button
says so), or keep the plan in a Google Sheet, which the server syncs itself.
"""


def files(url: str, addin_url: str | None = None) -> dict[str, str | bytes]:
    out: dict[str, str | bytes] = {
        "manifest.xml": manifest(url, addin_url),
        "functions.json": json.dumps(metadata(), indent=2, ensure_ascii=False) + "\n",
        "functions.js": functions_js(url),
        "functions.html": functions_html(url),
        "SETUP.md": setup(url, addin_url),
    }
    for size in (16, 32, 64, 80):
        out[f"assets/icon-{size}.png"] = _png(size)
    return out
