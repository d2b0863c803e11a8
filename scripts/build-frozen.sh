#!/usr/bin/env bash
# Freeze the `funnelplan` command with PyInstaller (build/funnelplan.spec) into dist/funnelplan/,
# then smoke-test the frozen binary: `funnelplan --version`, `funnelplan demo` and `funnelplan
# report` on the demo's workbook (a PDF and an HTML page) must succeed.
# Exits non-zero if the build or either check fails. Run from anywhere; works in the repo root.
# Needs the project installed in this Python (`pip install -e .`; .ci/run does it first).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "build-frozen: installing pyinstaller"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check pyinstaller
fi
if ! "$PYTHON" -c "import importlib.metadata as m; m.version('funnelplan')" 2>/dev/null; then
  echo "build-frozen: the funnelplan package is not installed; run: $PYTHON -m pip install -e ." >&2
  exit 1
fi
expected_version="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('funnelplan'))")"

echo "build-frozen: PyInstaller $("$PYTHON" -m PyInstaller --version), building dist/funnelplan/"
log="build/pyinstaller/build.log"
mkdir -p build/pyinstaller
start=$SECONDS
if ! "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller build/funnelplan.spec >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "build-frozen: pyinstaller failed (full log: $log)" >&2
  exit 1
fi
echo "build-frozen: built in $((SECONDS - start)) s (log: $log)"

exe="dist/funnelplan/funnelplan"
[ -x "$exe" ] || exe="dist/funnelplan/funnelplan.exe"
if [ ! -x "$exe" ]; then
  echo "build-frozen: no executable in dist/funnelplan/" >&2
  exit 1
fi

echo "build-frozen: $exe --version"
version_out="$("$exe" --version)" || {
  echo "build-frozen: '$exe --version' failed" >&2
  exit 1
}
echo "$version_out"
case "$version_out" in
  *"$expected_version"*) ;;
  *)
    echo "build-frozen: expected version $expected_version, got: $version_out" >&2
    exit 1
    ;;
esac

demo_dir="$(mktemp -d)"
trap 'rm -rf "$demo_dir"' EXIT
echo "build-frozen: $exe demo --out $demo_dir"
start=$SECONDS
if ! "$exe" demo --out "$demo_dir"; then
  echo "build-frozen: '$exe demo' failed" >&2
  exit 1
fi
echo "build-frozen: demo ran in $((SECONDS - start)) s"
for f in "$demo_dir"/*.xlsx "$demo_dir"/sync.toml; do
  if [ ! -s "$f" ]; then
    echo "build-frozen: the demo did not write $f" >&2
    exit 1
  fi
done

if ! compgen -G "dist/funnelplan/_internal/*pango-1.0*" >/dev/null; then
  echo "build-frozen: warning: no Pango in the folder; the report will need the system's" >&2
fi

# The client report from the demo's workbook, both forms: WeasyPrint (and Pango through it),
# matplotlib and Jinja2 must have made it into the folder. A PDF starts with %PDF; both files
# carry the charts (PNG, base64 in the HTML), so anything under 10 KB is a broken report.
book="$(compgen -G "$demo_dir/*.xlsx" | head -n 1)"
mkdir -p "$demo_dir/report"
for kind in pdf html; do
  out="$demo_dir/report/report.$kind"
  echo "build-frozen: $exe report $book --out $out"
  start=$SECONDS
  if ! "$exe" report "$book" --out "$out"; then
    echo "build-frozen: '$exe report --out $out' failed" >&2
    exit 1
  fi
  size="$(wc -c <"$out" 2>/dev/null || echo 0)"
  echo "build-frozen: report.$kind: $size bytes in $((SECONDS - start)) s"
  if [ "$size" -le 10240 ]; then
    echo "build-frozen: report.$kind is only $size bytes" >&2
    exit 1
  fi
done
if [ "$(head -c 4 "$demo_dir/report/report.pdf")" != "%PDF" ]; then
  echo "build-frozen: report.pdf does not start with %PDF" >&2
  exit 1
fi
if ! grep -q "data:image/png;base64," "$demo_dir/report/report.html"; then
  echo "build-frozen: report.html has no chart" >&2
  exit 1
fi

# The Excel add-in's sources travel in the folder (build/excel/): once the `addin` commands
# exist, the frozen binary must be able to write the .xlam too.
help_text="$("$exe" --help)"
if grep -qE '^ +addin ' <<<"$help_text"; then
  echo "build-frozen: $exe addin build --out $demo_dir/xlam"
  "$exe" addin build --out "$demo_dir/xlam" || {
    echo "build-frozen: '$exe addin build' failed" >&2
    exit 1
  }
  if ! compgen -G "$demo_dir/xlam/*.xlam" >/dev/null; then
    echo "build-frozen: 'addin build' wrote no .xlam" >&2
    exit 1
  fi
fi

echo "build-frozen: OK; dist/funnelplan/ is $(du -sh dist/funnelplan | cut -f1)" \
  "($(find dist/funnelplan -type f | wc -l) files)"
