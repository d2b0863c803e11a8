"""Headless LibreOffice: recalculate a workbook for real, or render it to PDF/PNG.

A throwaway user profile forces "recalculate on load" for OOXML files, so every formula in
the workbook is computed by LibreOffice's engine (not read from cached values).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing or failed to convert a file."""


def soffice_path() -> str | None:
    """The `soffice` executable, or None when LibreOffice is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path | str, out_dir: Path | str, to: str, timeout: float = 180) -> Path:
    """Convert `source` with LibreOffice headless into `out_dir` (format `to`: xlsx, pdf, png).

    Recalculation on load is forced, so an xlsx → xlsx conversion is a full recalculation.
    """
    exe = soffice_path()
    if exe is None:
        raise LibreOfficeError(
            "LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)"
        )
    source = Path(source).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="funnelplan-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
        cmd = [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(source),
        ]
        env = {**os.environ, "HOME": profile}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired as exc:
            raise LibreOfficeError(f"LibreOffice timed out converting {source.name}") from exc
    target = out / f"{source.stem}.{to.split(':')[0]}"
    if done.returncode != 0 or not target.exists():
        raise LibreOfficeError(
            f"LibreOffice could not convert {source.name} to {to}: "
            f"{(done.stderr or done.stdout).strip()[-500:]}"
        )
    return target


def recalculate(source: Path | str, out_dir: Path | str) -> Path:
    """A copy of `source` in `out_dir`, every formula recalculated by LibreOffice."""
    src = Path(source)
    out = Path(out_dir)
    if out.resolve() == src.parent.resolve():
        raise LibreOfficeError("`out_dir` must differ from the source's folder")
    return convert(src, out, "xlsx:Calc MS Excel 2007 XML")
