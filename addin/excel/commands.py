"""``funnelplan addin build`` and ``funnelplan addin install`` (the click group `addin_group`).

``build --out DIR`` writes ``FunnelPlan.xlam`` (build/excel/build_xlam.py; the sources are
committed as text in build/excel/, so this needs a source checkout or a frozen build that
bundles that folder).

``install`` writes the three things Excel needs:

1. ``FunnelPlan.xlam`` - on Windows into the user's XLSTART folder
   (``%APPDATA%\\Microsoft\\Excel\\XLSTART``), so Excel opens it at start-up and shows the
   "Funnel Plan" tab;
2. ``funnelplan_udfs.py``, the UDF module generated from the registry - on Windows into
   ``%LOCALAPPDATA%\\funnelplan\\excel``;
3. the xlwings settings - on Windows merged into the user's xlwings config
   (``%USERPROFILE%\\.xlwings\\xlwings.conf``): ``INTERPRETER_WIN`` (this Python, which has
   funnelplan installed), ``UDF MODULES`` (adds ``funnelplan_udfs``) and ``PYTHONPATH`` (adds the
   UDF module's folder); other settings are kept.

With ``--dir DIR`` (required where Excel for Windows is not, e.g. Linux) the three files go into
DIR instead (``xlwings.conf`` beside the others) and the command prints where they belong on
Windows. The ribbon's buttons and the formulas also need xlwings' own add-in (``xlwings addin
install``); the formulas are declared in a workbook by the xlwings tab's "Import Functions".

In the standalone (PyInstaller) build, ``sys.executable`` is ``funnelplan.exe``, not a Python
interpreter, so ``install`` writes no xlwings settings and no formulas module (unless
``--interpreter`` names a real Python): it writes ``FunnelPlan.xlam`` and copies the
``xlwings.xlam`` shipped in the folder beside it; the buttons then run the frozen program through
xlwings' ``RunFrozenPython`` and ``funnelplan run-action`` (docs/standalone.md).

``run-action ACTION_ID`` (the top-level click command `run_action_cmd`) is what the ribbon's
callback starts through ``RunFrozenPython``: it runs one button through
`addin.excel.dispatcher.run` and ignores the arguments xlwings appends (``--wb=...
--from_xl=1 --app=... --hwnd=...``; xlwings' ``Book.caller()`` reads them from ``sys.argv``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import click

from addin.excel import dispatcher
from addin.excel.udfs import UDF_MODULE, write_udf_module
from addin.registry import ACTIONS

CONFIG_NAME = "xlwings.conf"
LIST_KEYS = ("UDF MODULES", "PYTHONPATH")
"""Config keys holding ``;``-separated lists: ours is added, other entries are kept."""


def _source_dirs() -> list[Path]:
    here = Path(__file__).resolve()
    dirs = [here.parents[2] / "build" / "excel"]  # a source checkout
    frozen = getattr(sys, "_MEIPASS", None)  # a pyinstaller build bundling build/excel
    if frozen:
        dirs.append(Path(frozen) / "build" / "excel")
    return dirs


def load_builder() -> ModuleType:
    """build/excel/build_xlam.py as a module (it is a script beside its sources, not a package)."""
    for folder in _source_dirs():
        script = folder / "build_xlam.py"
        if script.is_file():
            spec = importlib.util.spec_from_file_location("funnelplan_build_xlam", script)
            if spec is None or spec.loader is None:  # pragma: no cover - a .py file always loads
                break
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise click.ClickException(
        "the add-in sources (build/excel/) are not part of this installation; "
        "run `funnelplan addin build` from a source checkout of funnelplan"
    )


def build_addin(out: Path) -> Path:
    builder = load_builder()
    try:
        path: Path = builder.build_xlam(out)
    except builder.BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    return path


def merge_config(text: str, settings: dict[str, str]) -> str:
    """An xlwings config (lines ``"KEY","value"``) with `settings` applied: list keys get the
    value added if missing, other keys are replaced; unrelated lines are kept."""
    lines = [line for line in text.splitlines() if line.strip()]
    current: dict[str, str] = {}
    order: list[str] = []
    for line in lines:
        key, _, value = line.partition(",")
        key = key.strip().strip('"')
        current[key] = value.strip().strip('"')
        order.append(key)
    for key, value in settings.items():
        if key in LIST_KEYS and current.get(key):
            items = [v for v in current[key].split(";") if v]
            if value not in items:
                items.append(value)
            current[key] = ";".join(items)
        else:
            current[key] = value
        if key not in order:
            order.append(key)
    return "".join(f'"{key}","{current[key]}"\n' for key in dict.fromkeys(order))


def windows_locations() -> dict[str, Path]:
    """Where Windows Excel and xlwings look for the add-in, the UDF module and the config."""
    appdata = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    local = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    profile = Path(os.environ.get("USERPROFILE", Path.home()))
    return {
        "xlam": appdata / "Microsoft" / "Excel" / "XLSTART",
        "udfs": local / "funnelplan" / "excel",
        "config": profile / ".xlwings",
    }


WINDOWS_UDF_DIR = r"%LOCALAPPDATA%\funnelplan\excel"
"""The UDF module's folder as the config names it when written off Windows (xlwings expands
environment variables in its config values)."""


def default_interpreter() -> str:
    """This Python on Windows; elsewhere ``python`` (the Windows machine's, on its PATH)."""
    return sys.executable if sys.platform == "win32" else "python"


def is_frozen() -> bool:
    """Whether this is the standalone (PyInstaller) build, where ``sys.executable`` is
    ``funnelplan.exe`` rather than a Python interpreter."""
    return bool(getattr(sys, "frozen", False))


def shipped_xlwings_xlam() -> Path | None:
    """xlwings' own add-in (``xlwings/addin/xlwings.xlam``): in the frozen build's folder
    (``_internal``, which the spec ships it in), else in the installed xlwings package."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "xlwings" / "addin" / "xlwings.xlam")
    try:
        spec = importlib.util.find_spec("xlwings")
    except (ImportError, ValueError):  # pragma: no cover - a broken xlwings installation
        spec = None
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "addin" / "xlwings.xlam")
    return next((path for path in candidates if path.is_file()), None)


def install_addin(folder: Path | None, interpreter: str | None = None) -> dict[str, Path]:
    """Write the .xlam, the UDF module and the xlwings config; return their paths.

    In the frozen build without `interpreter` (there is no Python to name as
    ``INTERPRETER_WIN``) write the add-ins only: ``FunnelPlan.xlam`` and a copy of the shipped
    ``xlwings.xlam`` (key ``xlwings_xlam``, when found)."""
    on_windows = sys.platform == "win32"
    if folder is None and not on_windows:
        raise click.UsageError(
            "Excel add-ins install on Windows; elsewhere give --dir DIR to write the files "
            "into a folder and copy them to the Windows machine."
        )
    if folder is None:
        places = windows_locations()
    else:
        places = {"xlam": folder, "udfs": folder, "config": folder}
    xlam = build_addin(places["xlam"])
    if is_frozen() and interpreter is None:
        written = {"xlam": xlam}
        shipped = shipped_xlwings_xlam()
        if shipped is not None:
            target = places["xlam"] / shipped.name
            if shipped.resolve() != target.resolve():
                shutil.copyfile(shipped, target)
            written["xlwings_xlam"] = target
        return written
    udfs = write_udf_module(places["udfs"])
    config = places["config"] / CONFIG_NAME
    config.parent.mkdir(parents=True, exist_ok=True)
    old = config.read_text(encoding="utf-8") if config.exists() else ""
    settings = {
        "INTERPRETER_WIN": interpreter or default_interpreter(),
        "UDF MODULES": UDF_MODULE,
        "PYTHONPATH": str(udfs.parent) if on_windows else WINDOWS_UDF_DIR,
    }
    tmp = config.with_name(f".{config.name}.tmp")
    tmp.write_text(merge_config(old, settings), encoding="utf-8")
    tmp.replace(config)
    return {"xlam": xlam, "udfs": udfs, "config": config}


@click.group("addin")
def addin_group() -> None:
    """The Excel add-in: the "Funnel Plan" ribbon (.xlam) and the formulas (xlwings UDFs)."""


@addin_group.command("build")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write FunnelPlan.xlam to.",
)
def build_command(out: Path) -> None:
    """Build FunnelPlan.xlam (ribbon XML + VBA callback, assembled without Excel)."""
    click.echo(str(build_addin(out)))


@addin_group.command("install")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the files into this folder instead of Excel's locations (required off Windows).",
)
@click.option(
    "--interpreter",
    default=None,
    help="The Python (with funnelplan installed) that Excel runs, INTERPRETER_WIN "
    "[default: this Python on Windows, else `python`].",
)
def install_command(folder: Path | None, interpreter: str | None) -> None:
    """Install the ribbon add-in, the formulas module and the xlwings settings (in the
    standalone build: the ribbon add-in and xlwings' add-in only)."""
    written = install_addin(folder, interpreter)
    if "config" not in written:  # the frozen build: add-ins only
        _report_frozen_install(written, folder)
        return
    click.echo(f"Add-in:        {written['xlam']}")
    click.echo(f"Formulas:      {written['udfs']}")
    click.echo(f"xlwings config: {written['config']}")
    if folder is not None:
        click.echo("On Windows these belong in:")
        click.echo(r"  FunnelPlan.xlam     -> %APPDATA%\Microsoft\Excel\XLSTART")
        click.echo(f"  {UDF_MODULE}.py -> {WINDOWS_UDF_DIR}")
        click.echo(rf"  {CONFIG_NAME}       -> %USERPROFILE%\.xlwings (merge with an existing one)")
    click.echo(
        "Excel also needs the xlwings add-in (`xlwings addin install`); then, in a workbook, "
        "xlwings tab > Import Functions declares the formulas."
    )


def _report_frozen_install(written: dict[str, Path], folder: Path | None) -> None:
    click.echo(f"Add-in:         {written['xlam']}")
    if "xlwings_xlam" in written:
        click.echo(f"xlwings add-in: {written['xlwings_xlam']}")
    else:
        click.echo("xlwings add-in: not found in this build; copy xlwings.xlam into XLSTART.")
    if folder is not None:
        click.echo(r"On Windows these belong in %APPDATA%\Microsoft\Excel\XLSTART.")
    expected = windows_locations()["udfs"].parent / "funnelplan.exe"
    if sys.platform == "win32" and Path(sys.executable).resolve() != expected.resolve():
        click.echo(
            f"Warning: this program is {sys.executable}, but the ribbon looks for {expected}; "
            "unpack the whole folder there."
        )
    click.echo(
        "This is the standalone build: the ribbon's buttons run funnelplan.exe (at "
        r"%LOCALAPPDATA%\funnelplan\funnelplan.exe). No xlwings settings were written: the "
        "formulas (=RUNRATE(...) and the others) need a real Python with funnelplan installed "
        "(`funnelplan addin install` from it, or --interpreter PATH here) or the web function "
        "server."
    )


class _UnknownAction(click.ClickException):
    """A button id the registry does not know: exit status 2, one line."""

    exit_code = 2


@click.command(
    "run-action",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("action_id")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def run_action_cmd(action_id: str, extra: tuple[str, ...]) -> None:
    """Run one ribbon button on the calling Excel workbook (started by xlwings'
    RunFrozenPython from the ribbon; EXTRA, the arguments xlwings appends, is ignored)."""
    if action_id not in ACTIONS:
        raise _UnknownAction(f"unknown action {action_id!r}; the actions are: {', '.join(ACTIONS)}")
    dispatcher.run(action_id)  # shows its own message box; a failed action is not a crash
