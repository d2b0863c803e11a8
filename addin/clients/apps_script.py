"""The Google Sheets client: an Apps Script project generated from the registry.

Files: ``appsscript.json`` (manifest and scopes), ``Code.gs`` (one custom function per registry
function, the signed call, the cache, the "Funnel Plan" menu) and ``SETUP.md``.

The menu's buttons run on the server against this spreadsheet by its id
(``POST /sheets/{id}/actions/{action}``): the server opens the sheet with its service account
(the sheet is shared with it), reads it in one request and writes the button's cells in one.
The script itself only needs to read its own spreadsheet's id; New Month's workbook comes back
as an .xlsx that the script imports into the user's Drive as a new spreadsheet (the Drive
advanced service, scope ``drive.file``: only files the script creates).
"""

from __future__ import annotations

import json

from addin.clients.common import (
    CACHE_SECONDS,
    KEY_LABEL,
    actions,
    base_url,
    comment,
    function_specs,
    functions,
    js,
)
from addin.registry import Arg, SheetFunction

SCOPES = [
    "https://www.googleapis.com/auth/script.external_request",
    "https://www.googleapis.com/auth/spreadsheets.currentonly",
    "https://www.googleapis.com/auth/script.container.ui",
    "https://www.googleapis.com/auth/drive.file",
]

_JS_TYPES = {
    "number": "number",
    "numbers": "number|number[][]",
    "dates": "Date|Date[][]",
    "date": "Date",
    "text": "string",
    "table": "Array<Array<*>>",
    "bool": "boolean",
}


def manifest(url: str) -> str:
    data = {
        "timeZone": "Etc/UTC",
        "dependencies": {
            "enabledAdvancedServices": [
                {"userSymbol": "Drive", "serviceId": "drive", "version": "v3"}
            ]
        },
        "exceptionLogging": "STACKDRIVER",
        "runtimeVersion": "V8",
        "oauthScopes": SCOPES,
        "urlFetchWhitelist": [base_url(url) + "/"],
    }
    return json.dumps(data, indent=2) + "\n"


def _param(arg: Arg) -> str:
    name = f"[{arg.name}]" if arg.optional else arg.name
    return f" * @param {{{_JS_TYPES[arg.kind]}}} {name} {comment(arg.help)}"


def _function(fn: SheetFunction) -> str:
    params = ", ".join(a.name for a in fn.args)
    shape = {"scalar": "a value", "column": "one value per row", "table": "a table"}[fn.result]
    lines = [
        "/**",
        f" * {comment(fn.help)}",
        " *",
        *(_param(a) for a in fn.args),
        f" * @return {shape} (computed by the Funnel Plan server).",
        " * @customfunction",
        " */",
        f"function {fn.name}({params}) {{",
        f"  return funnelplanCall_({js(fn.name)}, Array.prototype.slice.call(arguments));",
        "}",
    ]
    return "\n".join(lines)


_RUNTIME = r"""
var FUNNELPLAN_DEFAULT_URL = __URL__;
var FUNNELPLAN_FUNCTIONS = __SPECS__;
var FUNNELPLAN_ACTIONS = __ACTIONS__;
var FUNNELPLAN_CACHE_SECONDS = __CACHE__;
var FUNNELPLAN_XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Server URL, key id and secret from the Script Properties (see SETUP.md). */
function funnelplanSettings_() {
  var props = PropertiesService.getScriptProperties();
  var url = (props.getProperty('FUNNELPLAN_URL') || FUNNELPLAN_DEFAULT_URL).replace(/\/+$/, '');
  var keyId = props.getProperty('FUNNELPLAN_KEY_ID');
  var secret = props.getProperty('FUNNELPLAN_SECRET');
  if (!keyId || !secret) {
    throw new Error('Funnel Plan: set FUNNELPLAN_KEY_ID and FUNNELPLAN_SECRET in the Script ' +
                    'Properties (Extensions > Apps Script > Project Settings).');
  }
  return {url: url, keyId: keyId, secret: secret};
}

function funnelplanBytes_(text) {
  return Utilities.newBlob(text).getBytes();
}

function funnelplanHex_(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i++) {
    var b = (bytes[i] + 256) % 256;
    out += (b < 16 ? '0' : '') + b.toString(16);
  }
  return out;
}

function funnelplanSha256Hex_(text) {
  return funnelplanHex_(Utilities.computeDigest(
      Utilities.DigestAlgorithm.SHA_256, text, Utilities.Charset.UTF_8));
}

/**
 * The four signature headers of a request (see the server's signing module): a fresh nonce per
 * request, so two identical requests in the same second are both accepted.
 */
function funnelplanSign_(settings, method, path, body) {
  var signingKey = Utilities.computeHmacSha256Signature(
      funnelplanBytes_(__LABEL__ + settings.keyId), funnelplanBytes_(settings.secret));
  var timestamp = String(Math.floor(Date.now() / 1000));
  var nonce = Utilities.getUuid();
  var text = method + '\n' + path + '\n' + timestamp + '\n' + nonce + '\n' +
      funnelplanSha256Hex_(body);
  var signature = Utilities.computeHmacSha256Signature(funnelplanBytes_(text), signingKey);
  return {
    'X-Funnelplan-Key': settings.keyId,
    'X-Funnelplan-Timestamp': timestamp,
    'X-Funnelplan-Nonce': nonce,
    'X-Funnelplan-Signature': funnelplanHex_(signature)
  };
}

var funnelplanTimeZone_ = null;

/** A cell as JSON: dates as ISO days (in the spreadsheet's time zone), blanks as null. */
function funnelplanCell_(value) {
  if (value instanceof Date) {
    if (funnelplanTimeZone_ === null) {
      try {
        funnelplanTimeZone_ = SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetTimeZone();
      } catch (e) {
        funnelplanTimeZone_ = Session.getScriptTimeZone();
      }
    }
    return Utilities.formatDate(value, funnelplanTimeZone_, 'yyyy-MM-dd');
  }
  if (value === '' || value === undefined) return null;
  if (typeof value === 'number' && !isFinite(value)) return '#NUM!';
  return value;
}

function funnelplanArg_(value) {
  if (Array.isArray(value)) {
    return value.map(function (row) {
      return Array.isArray(row) ? row.map(funnelplanCell_) : [funnelplanCell_(row)];
    });
  }
  return funnelplanCell_(value);
}

/** A signed POST to the server; the JSON answer, or an Error with the server's message. */
function funnelplanPost_(settings, path, body) {
  var response = UrlFetchApp.fetch(settings.url + path, {
    method: 'post',
    contentType: 'application/json',
    payload: body,
    headers: funnelplanSign_(settings, 'POST', path, body),
    muteHttpExceptions: true
  });
  var text = response.getContentText();
  var data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error('Funnel Plan server: HTTP ' + response.getResponseCode());
  }
  if (response.getResponseCode() !== 200) {
    var error = data && data.error ? data.error.message : text;
    throw new Error('Funnel Plan server: ' + error);
  }
  return data;
}

/**
 * One function call: every argument (whole ranges) in one signed request; the result as rows
 * of cells. A scalar function given a range of several rows and columns is computed per row
 * (one result per row). Identical calls are served from the script cache.
 */
function funnelplanCall_(name, values) {
  var args = values.map(funnelplanArg_);
  while (args.length && args[args.length - 1] === null) args.pop();
  var first = args[0];
  var byRow = FUNNELPLAN_FUNCTIONS[name].result === 'scalar' && Array.isArray(first) &&
      first.length > 1 && first[0].length > 1;
  var body = JSON.stringify({args: args, by_row: byRow});
  var settings = funnelplanSettings_();
  var cache = CacheService.getScriptCache();
  var cacheKey = 'fp:' + funnelplanSha256Hex_(settings.url + '\n' + name + '\n' + body);
  var cached = cache.get(cacheKey);
  if (cached !== null && cached !== undefined) return JSON.parse(cached);
  var data = funnelplanPost_(settings, '/functions/' + name, body);
  var rows = data.values.map(function (row) {
    return row.map(function (cell) { return cell === null ? '' : cell; });
  });
  var out = JSON.stringify(rows);
  if (out.length < 90000) cache.put(cacheKey, out, FUNNELPLAN_CACHE_SECONDS);
  return rows;
}

/** The "Funnel Plan" menu. */
function onOpen() {
  var menu = SpreadsheetApp.getUi().createMenu('Funnel Plan');
  FUNNELPLAN_ACTIONS.forEach(function (action) {
    menu.addItem(action.label, 'funnelplanAction_' + action.id);
  });
  menu.addSeparator();
  menu.addItem('Server and key…', 'funnelplanSetup');
  menu.addToUi();
}

/**
 * A button: the server runs it on this spreadsheet (it opens the sheet with its service
 * account, which the sheet is shared with) and answers with a message; New Month also sends
 * next month's workbook, imported here as a new spreadsheet in your Drive.
 */
function funnelplanAction_(id) {
  var action = FUNNELPLAN_ACTIONS.filter(function (a) { return a.id === id; })[0];
  var ui = SpreadsheetApp.getUi();
  var spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  var data;
  try {
    var settings = funnelplanSettings_();
    spreadsheet.toast(action.label + '…', 'Funnel Plan', 60);
    var path = '/sheets/' + encodeURIComponent(spreadsheet.getId()) + '/actions/' + action.id;
    data = funnelplanPost_(settings, path, '');
  } catch (e) {
    ui.alert(action.label, String(e.message || e), ui.ButtonSet.OK);
    return {error: String(e.message || e)};
  }
  var message = data.message;
  if (data.workbook) {
    var blob = Utilities.newBlob(Utilities.base64Decode(data.workbook), FUNNELPLAN_XLSX,
                                 data.filename);
    var file = Drive.Files.create(
        {name: data.filename.replace(/\.xlsx$/i, ''), mimeType: MimeType.GOOGLE_SHEETS}, blob);
    data.created = file.id;
    message += '\n\nNew spreadsheet: https://docs.google.com/spreadsheets/d/' + file.id;
  }
  ui.alert(action.label, message, ui.ButtonSet.OK);
  return data;
}

/** Menu: ask for the server URL, key id and secret and keep them in the Script Properties. */
function funnelplanSetup() {
  var ui = SpreadsheetApp.getUi();
  var props = PropertiesService.getScriptProperties();
  var fields = [
    ['FUNNELPLAN_URL', 'Server URL (https://...)'],
    ['FUNNELPLAN_KEY_ID', 'API key id'],
    ['FUNNELPLAN_SECRET', 'API key secret']
  ];
  for (var i = 0; i < fields.length; i++) {
    var answer = ui.prompt('Funnel Plan', fields[i][1], ui.ButtonSet.OK_CANCEL);
    if (answer.getSelectedButton() !== ui.Button.OK) return;
    var value = answer.getResponseText().trim();
    if (value) props.setProperty(fields[i][0], value);
  }
  ui.alert('Funnel Plan', 'Saved. Recalculate the sheet to use the server.', ui.ButtonSet.OK);
}
"""


def code(url: str) -> str:
    action_list = [{"id": a.id, "label": a.label, "help": a.help} for a in actions()]
    runtime = (
        _RUNTIME.replace("__URL__", js(base_url(url)))
        .replace("__SPECS__", js(function_specs()))
        .replace("__ACTIONS__", js(action_list))
        .replace("__CACHE__", str(CACHE_SECONDS))
        .replace("__LABEL__", js(KEY_LABEL))
    )
    handlers = "\n".join(
        f"function funnelplanAction_{a.id}() {{ return funnelplanAction_({js(a.id)}); }}"
        for a in actions()
    )
    header = (
        "// Funnel Plan for Google Sheets. GENERATED by `funnelplan clients` from the function\n"
        "// registry: do not edit; regenerate instead.\n"
    )
    body = "\n\n".join(_function(f) for f in functions())
    return f"{header}{runtime}\n{handlers}\n\n{body}\n"


def setup(url: str) -> str:
    names = "\n".join(f"- `{f.signature}`: {f.help}" for f in functions())
    items = "\n".join(f"- **{a.label}**: {a.help}" for a in actions())
    return f"""# Funnel Plan for Google Sheets: setup

Generated by `funnelplan clients` for the server `{base_url(url)}`.

1. Share the spreadsheet with the server's Google service account as an **Editor** (the admin
   knows its email; `funnelplan serve` prints it), and ask the admin for an API key for this
   sheet: `funnelplan keys create "my sheet" --sheet <this sheet's URL>` prints a key id and a
   secret (the secret is shown once). For Sync Facts the admin also puts the sheet's sync
   config in the server's sync folder (`workbook = "gsheet:<spreadsheet id>"`).
2. Open the spreadsheet, then **Extensions > Apps Script**.
3. In the editor, **Project Settings**: tick "Show appsscript.json manifest file in editor".
   Replace `appsscript.json` with this folder's `appsscript.json`, and `Code.gs` with this
   folder's `Code.gs` (or push both with `clasp push`).
4. Still in **Project Settings > Script Properties**, add:
   - `FUNNELPLAN_URL`: `{base_url(url)}` (optional: this is the default)
   - `FUNNELPLAN_KEY_ID`: the key id
   - `FUNNELPLAN_SECRET`: the secret
   (or reload the sheet and use **Funnel Plan > Server and key…**).
5. Reload the spreadsheet and accept the permissions: connect to an external service (the
   server), this spreadsheet only, show menus and dialogs, and create files in your Drive (New
   Month's spreadsheet; the script sees no other file).

## Functions

Type them like any formula; give whole ranges (`=CPA(B2:B100, C2:C100)`): each formula is one
request to the server. A run-rate over a block of lines (`=RUNRATE(D2:AH500, B1)`) returns one
forecast per line. Identical formulas are answered from a cache for
{CACHE_SECONDS // 60} minutes. Error values come back as text (`#DIV/0!`); a problem with the
whole call (a missing key, ranges of different sizes) shows as `#ERROR!` with the reason.

{names}

## Menu "Funnel Plan"

{items}

Each button runs on the server against this spreadsheet: the server reads the sheet in one
request and writes only the cells the button owns in one request (Refresh Run-Rate: the `rr`
columns, Pace and the as-of date; Sync Facts: the `f` columns, Daily, Data Quality, Unmapped),
so the rest of the sheet, your formatting and your own columns stay as they are; a button that
fails changes nothing and says why. New Month leaves this sheet alone and creates next month's
plan as a new spreadsheet in your Drive (the link is shown). The first time, Google asks to
allow access to "files created by this script" for that.

## Security

The secret stays in the Script Properties (visible to the sheet's editors: give each sheet
its own key and revoke it with `funnelplan keys revoke KEY_ID`). Requests are signed
(HMAC-SHA256 over the request, a timestamp and a fresh random nonce); the secret is never sent,
and the server refuses a signed request sent a second time or too old (5 minutes by default).
"""


def files(url: str) -> dict[str, str]:
    return {
        "appsscript.json": manifest(url),
        "Code.gs": code(url),
        "SETUP.md": setup(url),
    }
