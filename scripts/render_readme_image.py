"""Render the demo workbook's Executive sheet to docs/demo-workbook.png (LibreOffice headless).

    python scripts/render_readme_image.py [--out docs/demo-workbook.png]

Runs the demo into a temporary folder, converts the workbook to PDF with LibreOffice (formulas
recalculated on load) and turns the first page (the Executive sheet: roll-up and charts) into a
PNG with pdftoppm.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from addin.demo import run_demo
from sheets_sync.libreoffice import convert


def render(out: Path, dpi: int = 110) -> Path:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(Path(tmp) / "demo")
        pdf = convert(result.workbook, Path(tmp) / "pdf", "pdf")
        stem = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
            check=True,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"{stem}.png", out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/demo-workbook.png"))
    parser.add_argument("--dpi", type=int, default=110)
    print(render(parser.parse_args().out, parser.parse_args().dpi))
