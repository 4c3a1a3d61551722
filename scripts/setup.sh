#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine (root or sudo): Debian build dependencies, then a
# virtual environment in .venv with GPAW built from PyPI against Debian's MPI, BLAS, ScaLAPACK,
# FFTW and libxc, PAW setups from PyPI's gpaw-data, and this package (editable).
# Only the Debian packages need root: once they are installed (by an administrator, or by one run of
# this script as root), any user runs it to make their own .venv, and the workflow never needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
DEBS=(build-essential pkg-config python3-dev python3-venv libxc-dev libopenblas-dev
      libfftw3-dev libscalapack-openmpi-dev openmpi-bin libopenmpi-dev
      povray povray-includes chromium)  # pictures; the 3D viewer's headless-browser test

missing=()
for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
            echo "setup: the Debian packages ${missing[*]} are missing, and installing them needs root." >&2
            echo "Fix: ask an administrator to run: apt-get install -y ${missing[*]}" >&2
            echo "     (or run this script once as root), then run it again as yourself." >&2
            exit 1
        fi
        SUDO=sudo
    fi
    log=$(mktemp /tmp/clusterdefects-apt.XXXXXX.log)
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -20 "$log"; echo "setup: apt-get failed (full log: $log)" >&2; exit 1
    fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${PIP[@]}" --upgrade pip setuptools wheel

# GPAW is sdist-only: its siteconfig decides what it links. Without one, FFTW and ScaLAPACK stay off.
export GPAW_CONFIG="$PWD/scripts/gpaw-siteconfig.py"
if ! "$VENV/bin/python" -c "import gpaw" 2>/dev/null; then
    echo "setup: building GPAW against Debian's MPI/OpenBLAS/ScaLAPACK/FFTW/libxc (about a minute)"
    "${PIP[@]}" --no-cache-dir --no-binary gpaw "gpaw>=25.1"
fi
"${PIP[@]}" -e ".[test]"
"$VENV/bin/python" -m clusterdefects.gpawcheck
# A clone's files are all dated now; Snakemake would take the shipped results for outdated and redo them.
"$VENV/bin/clusterdefects" restore-times
echo "setup: done ($VENV)"
