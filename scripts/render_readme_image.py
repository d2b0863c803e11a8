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

import numpy as np

from addin.cli.demo import run_demo
from sheets_sync.libreoffice import convert


def _content_box(ppm: Path, margin: int = 12) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of the non-white pixels of a binary PPM (P6) image."""
    data = ppm.read_bytes()
    parts = data.split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    pixels = np.frombuffer(parts[4][: width * height * 3], dtype=np.uint8).reshape(height, width, 3)
    ink = np.argwhere(pixels.min(axis=2) < 245)
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    return int(x0), int(y0), int(min(width, x1 + margin) - x0), int(min(height, y1 + margin) - y0)


def render(out: Path, dpi: int = 110) -> Path:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(Path(tmp) / "demo")
        pdf = convert(result.workbook, Path(tmp) / "pdf", "pdf")
        stem = Path(tmp) / "page"
        page = ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run([*page, str(pdf), str(stem)], check=True)
        x, y, w, h = _content_box(Path(f"{stem}.ppm"))
        crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
        subprocess.run([*page, "-png", *crop, str(pdf), str(stem)], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"{stem}.png", out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/demo-workbook.png"))
    parser.add_argument("--dpi", type=int, default=160)
    args = parser.parse_args()
    print(render(args.out, args.dpi))
