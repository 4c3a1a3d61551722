"""Check the installed GPAW: built with MPI, ScaLAPACK, FFTW and libxc, and able to find PAW setups.

Run as ``python -m clusterdefects.gpawcheck`` (the set-up script does); exits non-zero with the
missing pieces named, so a build without them is caught at install time, not hours into a run.
"""

from __future__ import annotations

import sys

REQUIRED_SETUPS = ("Ag", "Hg", "S", "C", "H")


def build_features() -> dict[str, bool]:
    """Which optional libraries this GPAW build links, as ``gpaw info`` reports them."""
    from gpaw import cgpaw, fftw
    from gpaw.utilities import compiled_with_sl

    return {
        "MPI": bool(cgpaw.have_mpi),
        "ScaLAPACK": bool(cgpaw.have_mpi and compiled_with_sl()),
        "FFTW": bool(fftw.have_fftw()),
        "libxc": bool(getattr(cgpaw, "libxc_version", None)),
    }


def setup_files(symbols: tuple[str, ...] = REQUIRED_SETUPS, xc: str = "PBE") -> dict[str, str]:
    """Path of the default PAW setup GPAW finds for each element (raises if one is missing)."""
    from gpaw.setup_data import search_for_file

    return {symbol: search_for_file(f"{symbol}.{xc}")[0] for symbol in symbols}


def main() -> int:
    features = build_features()
    missing = [name for name, ok in features.items() if not ok]
    for name, ok in features.items():
        print(f"gpawcheck: {name:10s} {'yes' if ok else 'NO'}")
    try:
        for symbol, path in setup_files().items():
            print(f"gpawcheck: setup {symbol:2s} {path}")
    except RuntimeError as err:
        print(f"gpawcheck: PAW setups not found: {err}; install the PyPI package gpaw-data", file=sys.stderr)
        return 1
    if missing:
        print(
            f"gpawcheck: GPAW was built without {', '.join(missing)}; rebuild it with "
            "GPAW_CONFIG=scripts/gpaw-siteconfig.py pip install --no-cache-dir --force-reinstall --no-binary gpaw gpaw",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
