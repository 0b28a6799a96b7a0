"""Shared test tables."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats


@pytest.fixture()
def synthetic_results() -> pd.DataFrame:
    """Two SNRs, three densities: known gains (see the assertions)."""
    rows = []
    for snr in ("high", "low"):
        for density in (0.5, 5.0, 50.0):
            decade = np.log10(density / 0.5)  # 0, 1, 2
            for approach in ("csr", "helix"):
                helix = approach == "helix"
                rows.append({
                    "approach": approach, "snr": snr, "test_set": f"{density:g}", "nominal_density": density,
                    "jaccard": 0.5 + (0.1 + 0.05 * decade if helix else 0.0) - 0.05 * decade,
                    "rmse_lat_nm": 30.0 if helix else 40.0, "rmse_ax_nm": 40.0 if helix else 60.0,
                    "rmse_vol_nm": 50.0 if helix else 72.0, "efficiency_3d": 0.6 if helix else 0.5,
                    "checkerboard_chi2": 19.0 if helix else 190.0, "checkerboard_dof": 19,
                    "checkerboard_25nm_chi2": 38.0, "checkerboard_25nm_dof": 19, "command": "x",
                })
        rows.append({**rows[-1], "test_set": "LD", "jaccard": 0.0, "rmse_vol_nm": 1e4})  # excluded from means
    return pd.DataFrame(rows)


@pytest.fixture()
def assert_moments():
    """``assert_moments(samples, mean, var, n_se=5)``: sample mean and variance within ``n_se``
    standard errors of the theory (the camera tests)."""

    def check(samples, mean: float, var: float, n_se: float = 5.0) -> None:
        """Sample mean and variance within n_se standard errors of the theory."""
        x = samples.double().reshape(-1)
        n = x.numel()
        kurt_excess = float(stats.kurtosis(x.numpy()))
        se_mean = math.sqrt(var / n)
        se_var = var * math.sqrt((2.0 + kurt_excess) / (n - 1))
        assert abs(float(x.mean()) - mean) < n_se * se_mean, (float(x.mean()), mean)
        assert abs(float(x.var()) - var) < n_se * se_var, (float(x.var()), var)


    return check


@pytest.fixture(scope="session")
def shipped():
    """The calibration of the shipped bead stack (:func:`structloc.calibration.fit_bead_stack`)."""
    from structloc.calibration import fit_bead_stack

    return fit_bead_stack()
