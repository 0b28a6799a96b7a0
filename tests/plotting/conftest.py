"""Figure tests draw with the Agg backend and close what they drew."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from structloc.emitters import Emitters  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def three_emitters() -> Emitters:
    """Three emitters of one frame inside a 16 x 16 pixel field, at three depths."""
    return Emitters([0, 0, 0], [412.5, 800.0, 1210.0], [300.0, 900.0, 1312.5], [-600.0, 0.0, 500.0],
                    [5000.0, 8000.0, 3000.0])


@pytest.fixture()
def random_locs():
    """A factory of ``n`` localizations uniform over the 6.4 um field, optionally snapped to pixel centres."""

    def make(n: int = 400, snap: bool = False, seed: int = 1) -> Emitters:
        rng = np.random.default_rng(seed)
        x, y = rng.uniform(0, 6400, n), rng.uniform(0, 6400, n)
        if snap:
            x, y = np.round(x / 100) * 100 + 50, np.round(y / 100) * 100 + 50
        return Emitters(np.zeros(n, int), x, y, rng.uniform(-700, 700, n), np.ones(n))

    return make
