"""What every command shares: options parsed once, errors shown as one readable line,
JSON output, and the number formats of the printed tables.

Expected errors (bad input, a workbook of the wrong shape) print one readable line and exit
with status 2; anything unexpected is logged with its traceback to a file named in the message.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import tempfile
import traceback
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import click

from planning.errors import PlanningError
from sheets_sync.libreoffice import LibreOfficeError
from sheets_sync.workbooks.interface import WorkbookError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("funnelplan")


def version_text() -> str:
    try:
        return version("funnelplan")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-17") from None


def user_errors(func: F) -> F:
    """Turn expected errors into one readable line; log unexpected ones with a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (PlanningError, WorkbookError, LibreOfficeError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            logfile = Path(tempfile.gettempdir()) / "funnelplan-error.log"
            logfile.write_text(traceback.format_exc(), encoding="utf-8")
            raise click.ClickException(
                f"unexpected error: {exc} (details in {logfile}; please report it)"
            ) from exc

    return wrapper  # type: ignore[return-value]


def json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value))


def clean_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(clean_json(payload), default=json_default, ensure_ascii=False, indent=2))


def fmt_value(v: float | None, kind: str) -> str:
    if v is None:
        return "—"
    if kind == "pct":
        return f"{v:.0%}"
    if kind == "money":
        return f"{v:,.0f}".replace(",", " ")
    return f"{v:,.0f}".replace(",", " ")


def fmt_money(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "—"
    return fmt_value(v, "money")


def fmt_short(v: float | None) -> str:
    """Money for a narrow table: ``1 535k`` from 100 000 up, else whole units (no-break
    spaces between thousands, so a cell never wraps inside a number)."""
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "—"
    if abs(v) >= 100_000:
        return f"{v / 1000:,.0f}k".replace(",", "\u00a0")
    return f"{v:,.0f}".replace(",", "\u00a0")


def fmt_count(v: float | None) -> str:
    """Conversions: whole from 100 up, else one decimal."""
    if v is None or not math.isfinite(v):
        return "—"
    return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}").replace(",", "\u00a0")


def fmt_pct(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:+.0%}"


def fmt_band(expected: float | None, low: float | None, high: float | None) -> str:
    """The band around the expected value in %, e.g. ``-4%/+5%``."""
    if expected is None or low is None or high is None or not expected:
        return "—"
    return f"{low / expected - 1:+.0%}/{high / expected - 1:+.0%}"


def parse_datetime(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 2026-11-18T09:00") from None
