#!/usr/bin/env bash
# System packages ACORN needs. `system-packages.sh` installs what the product
# needs at run time; `system-packages.sh test` adds what the tests need (a
# browser for the end-to-end tests: Debian's chromium, driven by Playwright
# through its executable path; Playwright never downloads a browser here;
# docker-compose, whose `config` validates docker-compose.yml without a
# Docker engine); a redis-server binary for the outage tests; and
# PgBouncer, which the hold tests start in transaction pooling mode;
# poppler-utils, whose pdftotext/pdftoppm prove that the invoice PDFs carry
# real Chinese text, not tofu boxes).
# Invoice PDFs (WeasyPrint): Pango/HarfBuzz (libharfbuzz-subset0 makes font
# subsetting 3x faster than the fontTools fallback), fontconfig, and the
# fonts the documents use: DejaVu Sans (Latin) and Noto Sans CJK SC (Chinese).
# Installed when running as root on Debian/Ubuntu and missing; otherwise the
# missing names are printed.
set -euo pipefail
packages=(gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
          fonts-dejavu-core fonts-noto-cjk)
if [ "${1:-}" = "test" ]; then
  # redis-server: the outage battery starts and stops a private Redis.
  packages+=(chromium docker-compose redis-server pgbouncer poppler-utils)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing system packages (install them with your package manager): ${missing[*]}" >&2
fi
