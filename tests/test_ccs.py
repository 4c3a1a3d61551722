"""The trajectory-method cross section: integration against known answers, parameters, charges, tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from ase.build import molecule

from clusterdefects import analysis
from clusterdefects.ccs import (CCSSettings, GasModel, IonModel, TrajectoryCCS, charges_for, ion_model,
                                neufeld_omega11, parameters, uniform_charges)
from clusterdefects.errors import InputError


def lj_centre(epsilon: float, sigma: float) -> IonModel:
    return IonModel(np.zeros((1, 3)), np.array([epsilon]), np.array([sigma]), np.zeros(1), 100.0, np.array([False]))


def test_a_lennard_jones_centre_gives_the_tabulated_collision_integral():
    """One 12-6 centre and a structureless gas: Omega(1,1) = pi sigma^2 Omega*(kT/eps) (Neufeld et al.)."""
    epsilon, sigma, temperature = 0.01, 3.5, 298.0
    result = TrajectoryCCS(lj_centre(epsilon, sigma), GasModel.point(),
                           CCSSettings(temperature=temperature, target_error=0.01, sensitivity=0)).compute(progress=False)
    exact = math.pi * sigma**2 * neufeld_omega11(8.617333262e-5 * temperature / epsilon)
    assert abs(result.ccs_A2 - exact) < 3 * result.standard_error_A2 + 0.005 * exact
    assert result.relative_error < 0.01 and result.lost == 0


def test_energy_is_conserved_along_trajectories():
    result = TrajectoryCCS(lj_centre(0.01, 3.5), GasModel.point(),
                           CCSSettings(target_error=0.05, sensitivity=0)).compute(progress=False)
    assert result.energy_violations <= 0.001 * result.trajectories


@pytest.mark.slow
def test_c60_cation_in_n2_is_within_3_percent_of_experiment():
    c60 = molecule("C60")
    experiment = next(v["ccs_A2"] for v in parameters()["validation"]["experiment_n2"] if v["ion"] == "C60+")
    result = TrajectoryCCS(ion_model(c60, uniform_charges(c60, 1)),
                           settings=CCSSettings(target_error=0.02, sensitivity=0)).compute(progress=False)
    assert abs(result.ccs_A2 / experiment - 1) < 0.03 + 2 * result.relative_error


def test_an_element_without_parameters_names_it_and_the_file():
    with pytest.raises(InputError, match=r"Xe.*ccs_n2.yaml"):
        ion_model(Atoms("AgXe", positions=[[0, 0, 0], [0, 0, 3]]), source="odd.xyz")


def test_charges_come_from_the_file_or_are_spread_evenly(tmp_path):
    atoms = Atoms("Ag2S", positions=[[0, 0, 0], [2.8, 0, 0], [1.4, 1.5, 0]], info={"charge": -1})
    q, model = charges_for(atoms, tmp_path / "x.xyz", None, None)
    assert np.allclose(q, -1 / 3) and model.startswith("uniform")
    bad = tmp_path / "charges.json"
    bad.write_text('{"charges": [0.1, -0.2]}')
    with pytest.raises(InputError, match="2 charges for 3 atoms"):
        charges_for(atoms, tmp_path / "x.xyz", bad, None)


def test_metal_sigma_sensitivity_is_reported_for_metal_ions():
    atoms = Atoms("Ag4", positions=[[0, 0, 0], [2.9, 0, 0], [1.45, 2.5, 0], [1.45, 0.84, 2.37]])
    result = TrajectoryCCS(ion_model(atoms, uniform_charges(atoms, -1)),
                           settings=CCSSettings(target_error=0.05, sensitivity_trajectories=500)).compute(progress=False)
    assert set(result.sensitivity) >= {"metal_sigma_x0.90_delta_A2", "metal_sigma_x1.10_delta_A2"}
    assert result.sensitivity["metal_sigma_x1.10_delta_A2"] > result.sensitivity["metal_sigma_x0.90_delta_A2"]


def test_comparison_rows_for_cross_sections():
    energies = pd.DataFrame({"composition": ["Ag28Hg", "Ag28Hg", "Ag28"], "structure_id": ["d-a", "d-b", "v-a"],
                             "charge": [-2, -2, -2], "relative_energy_eV": [0.2, 0.0, 0.0]})
    ccs = pd.DataFrame({"structure_id": ["d-a", "d-b", "v-a"], "composition": ["Ag28Hg", "Ag28Hg", "Ag28"],
                        "ccs_A2": [440.0, 450.0, 441.0], "standard_error_A2": [4.0, 4.5, 4.4]})
    refs = [{"quantity": "lowest", "value": "446.4", "compute": "ccs_lowest", "composition": "Ag28Hg"},
            {"quantity": "range", "value": "x", "compute": "ccs_range", "composition": "Ag28Hg"},
            {"quantity": "ratio", "value": "-1.2", "compute": "ccs_ratio", "composition": "Ag28Hg", "product": "Ag28"}]
    rows = analysis.comparison(refs, energies, pd.DataFrame(), pd.DataFrame(), "p", ccs)["computed"].tolist()
    assert rows == ["450.0 +- 4.5 (d-b)", "440.0-450.0", "-2.0 +- 1.4"]
    assert analysis.comparison(refs[:1], energies, pd.DataFrame(), pd.DataFrame(), "p")["computed"].tolist() == ["n/a"]
