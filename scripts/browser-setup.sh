#!/usr/bin/env bash
# What the browser journeys (tests/browser) need besides the Python packages: Debian's chromium.
# Playwright drives it by its path; Playwright's own browser download is not used.
# Non-interactive, so it runs the same on a fresh CI machine (CI=true, no input) as on a laptop.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

# The same lookup the tests make (shutil.which), so "found here" means "found by the tests".
if "$PY" -c 'import shutil, sys; sys.exit(0 if shutil.which("chromium") else 1)'; then
    echo "browser-setup: chromium found at $(command -v chromium)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-setup: no chromium on PATH and no apt-get to install it; install chromium" >&2
    exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo -n)
fi
echo "browser-setup: installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core fonts-liberation </dev/null
"$PY" -c 'import shutil, sys; p = shutil.which("chromium"); print("browser-setup: chromium at", p); sys.exit(0 if p else 1)'
