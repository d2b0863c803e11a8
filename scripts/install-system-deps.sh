#!/usr/bin/env bash
# Debian packages the real-component tests use: LibreOffice Calc (headless recalculation,
# README picture, the visual check), poppler-utils (PDF → PNG), DejaVu fonts (text widths) and PostgreSQL (the SQL source's warehouse test
# starts a private cluster with initdb + pg_ctl; no system service is needed). Idempotent:
# installs only what is missing; needs root or sudo.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# DejaVu Sans: what LibreOffice draws Calibri with here; the column widths are measured in it.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Pango: what WeasyPrint (pip) lays the client report's PDF out with (funnelplan report).
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
  || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  need+=(postgresql)
fi
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
