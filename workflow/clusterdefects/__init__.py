"""clusterdefects: dopant and vacancy defects in ligand-protected metal clusters."""

__version__ = "0.1.0"
