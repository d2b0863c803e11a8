"""The demo for tests, built once per session: `run_demo` with the real one's signature.

A demo build (sample month, exports, workbook, sync, split, scenarios, alerts, attribution,
drill) takes about half a minute, and some thirty test modules want one. The first call for a
(month, as-of, seed, language) builds it for real into a session folder; every call copies that
folder into the caller's `out_dir` and returns the real result with its paths moved there. The
fact store's recorded file paths (load log, quarantine, deals, journeys) are moved too, so the
copy is what a build into `out_dir` would have made. Each caller owns its copy: a test that
presses buttons or syncs never touches another's.

`tests/test_demo_snapshot.py`, `tests/addin/test_cli.py` and the CLI tests run the real command.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb

from addin.cli import demo as real
from planning.runrate import parse_month
from sheets_sync.i18n import resolve_language

_ROOT = Path(tempfile.mkdtemp(prefix="funnelplan-test-demos-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
_BUILT: dict[tuple[str, dt.date, int, str], real.DemoResult] = {}


def run_demo(
    out_dir: Path,
    month: str = real.DEMO_MONTH,
    as_of: dt.date | None = None,
    seed: int = 7,
    lang: str | None = None,
) -> real.DemoResult:
    """A copy of the demo `addin.cli.demo.run_demo(out_dir, month, as_of, seed, lang=lang)`
    would build, in `out_dir`."""
    language = resolve_language(lang)
    as_of = as_of or parse_month(month).replace(day=real.DEMO_DAY)
    key = (month, as_of, seed, language)
    if key not in _BUILT:
        _BUILT[key] = real.run_demo(_ROOT / str(len(_BUILT)), month, as_of, seed, lang=language)
    built = _BUILT[key]
    source, out_dir = built.config.parent, Path(out_dir)
    shutil.copytree(source, out_dir, dirs_exist_ok=True)
    _move_store_paths(out_dir / built.store.name, str(source), str(out_dir))

    def moved(path: Path) -> Path:
        return out_dir / path.relative_to(source)

    return dataclasses.replace(
        built,
        workbook=moved(built.workbook),
        store=moved(built.store),
        config=moved(built.config),
        exports={name: moved(path) for name, path in built.exports.items()},
        sync=dataclasses.replace(built.sync, config=moved(built.sync.config)),
    )


def _move_store_paths(store: Path, old: str, new: str) -> None:
    """Every text column of the store that names a file under `old` names it under `new`."""
    with duckdb.connect(str(store)) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            con.execute(
                f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                f'WHERE "{column}" LIKE ?',
                [old, new, f"%{old}%"],
            )
