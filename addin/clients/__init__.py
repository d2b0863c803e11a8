"""Clients generated from the registry (never hand-written): the Google Sheets Apps Script
project (`apps_script`) and the Excel on the web Office.js add-in (`office_js`).

`write_clients(url, out_dir)` writes ``apps-script/`` and ``office-js/`` under `out_dir`;
``clients/`` at the repository root holds them generated for ``https://funnelplan.example.com``
and a test checks that copy is up to date.
"""

from __future__ import annotations

from pathlib import Path

from addin.clients import apps_script, office_js


def generate(url: str, addin_url: str | None = None) -> dict[str, str | bytes]:
    """Every generated file by its path relative to the output folder."""
    out: dict[str, str | bytes] = {}
    for name, text in apps_script.files(url).items():
        out[f"apps-script/{name}"] = text
    for name, data in office_js.files(url, addin_url).items():
        out[f"office-js/{name}"] = data
    return out


def write_clients(url: str, out_dir: Path | str, addin_url: str | None = None) -> list[Path]:
    """Write both clients for the server at `url` under `out_dir`; returns the files."""
    root = Path(out_dir)
    written = []
    for name, data in generate(url, addin_url).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="\n")
        written.append(path)
    return written
