"""Element sets the package reasons with: which atoms are ligand (non-metal), which bind as thiolates,
and how many electrons each metal gives to the cluster's superatom shell."""

#: Elements that are never a cluster metal (ligand atoms, counter-ions, solvent).
NONMETALS = frozenset({"H", "He", "B", "C", "N", "O", "F", "Ne", "Si", "P", "S", "Cl", "Ar", "As", "Se", "Br", "Kr",
                       "Te", "I", "Xe"})
#: Donor atoms of thiolate-like ligands (one electron withdrawn from the superatom per bound ligand).
CHALCOGENS = frozenset({"S", "Se", "Te"})
#: Valence electrons each metal gives to the superatom (the cluster's delocalised shell).
METAL_VALENCE = {"Cu": 1, "Ag": 1, "Au": 1, "Zn": 2, "Cd": 2, "Hg": 2, "Ni": 0, "Pd": 0, "Pt": 0}


def doped_charge(parent_charge: int, host: str, dopant: str) -> int:
    """The net charge that keeps the parent's superatom electron count when one host atom becomes ``dopant``:
    each valence electron the dopant brings beyond the host's is taken off the charge. For [Ag29(BDT)12]3-:
    Cu, Au (group 11) 3-; Zn, Cd, Hg (group 12) 2-; Ni, Pd, Pt (group 10) 4-. ValueError for a metal whose
    valence is not in ``METAL_VALENCE``."""
    return parent_charge + metal_valence(dopant) - metal_valence(host)


def metal_valence(symbol: str) -> int:
    """Electrons ``symbol`` gives to the superatom shell: 0 for a non-metal (ligand atom); ValueError for a
    metal whose valence is not in ``METAL_VALENCE``, rather than a silent 0."""
    if symbol in NONMETALS:
        return 0
    if symbol not in METAL_VALENCE:
        raise ValueError(f"no superatom valence for {symbol} (known: {', '.join(METAL_VALENCE)}): "
                         "the cluster electron count needs it")
    return METAL_VALENCE[symbol]
