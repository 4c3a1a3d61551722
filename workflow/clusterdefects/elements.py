"""Element sets the package reasons with: which atoms are ligand (non-metal), which bind as thiolates,
and how many electrons each metal gives to the cluster's superatom shell."""

#: Elements that are never a cluster metal (ligand atoms, counter-ions, solvent).
NONMETALS = frozenset({"H", "He", "B", "C", "N", "O", "F", "Ne", "Si", "P", "S", "Cl", "Ar", "As", "Se", "Br", "Kr",
                       "Te", "I", "Xe"})
#: Donor atoms of thiolate-like ligands (one electron withdrawn from the superatom per bound ligand).
CHALCOGENS = frozenset({"S", "Se", "Te"})
#: Valence electrons each metal gives to the superatom (the cluster's delocalised shell).
METAL_VALENCE = {"Cu": 1, "Ag": 1, "Au": 1, "Zn": 2, "Cd": 2, "Hg": 2, "Pd": 0, "Pt": 0}
