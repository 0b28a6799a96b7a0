"""How many emitters each model *thinks* a test frame holds, against the truth.

The mixture head's summed detection probability is the network's own count of a frame
(:meth:`structloc.localize.Localizer.expected_counts`; the count term of its loss trains it on
frames of its own sampler). On the study's MT0 frames it separates two reasons a model can lose:
a network that misjudges how many emitters a crowded structure holds (its count is off before any
decoding), and a decoder that turns a well-judged count into the wrong number of localizations.
:func:`count_calibration` measures both on the study's own test frames (the same seeds, so the
same frames as the results table).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..localize import Localizer
from .config import APPROACHES, check_snr
from .runner import localizer_geometry, model_path, shared_test_sets

__all__ = ["count_calibration"]


def count_calibration(snrs: tuple[str, ...], targets: tuple[float | str, ...], *, n_frames: int = 20,
                      seed: int = 7, models_dir: str | Path | None = None,
                      approaches: tuple[str, ...] = APPROACHES) -> pd.DataFrame:
    """True emitters, the network's expected count and the localizations, per model and test set.

    Parameters
    ----------
    snrs : tuple of str
        Signal levels (one model pair each).
    targets : tuple of float or {"LD", "HD"}
        Test sets: nominal densities per um^2 or challenge sets (:func:`simulate_test_set`).
    n_frames, seed : int
        Test frames per set and the study seed (the study's frames for the same values).
    models_dir : str or Path, optional
        Directory of ``{approach}_{snr}.pt`` (default: the shipped models).
    approaches : tuple of str
        Training regimes to compare (default: csr and helix).

    Returns
    -------
    pandas.DataFrame
        One row per (snr, test set, approach): ``n_truth``, ``expected`` (summed detection
        probability over the frames), ``n_pred`` (localizations at the model's threshold), and
        the ratios ``expected_per_truth`` and ``pred_per_truth``.
    """
    rows = []
    for snr in map(check_snr, snrs):
        localizers = {a: Localizer.from_checkpoint(model_path(models_dir, a, snr), device="cpu") for a in approaches}
        geometries = {approach: localizer_geometry(loc) for approach, loc in localizers.items()}
        for target in targets:
            tests = shared_test_sets(snr, target, geometries, n_frames=n_frames, seed=seed)
            for approach, loc in localizers.items():
                test = tests[approach]
                n_truth = len(test.truth)
                expected = float(loc.expected_counts(test.frames).sum())
                n_pred = len(loc(test.frames))
                rows.append({"snr": snr, "test_set": test.test_set, "nominal_density": test.nominal_density,
                             "approach": approach, "n_truth": n_truth, "expected": expected, "n_pred": n_pred,
                             "expected_per_truth": expected / n_truth if n_truth else float("nan"),
                             "pred_per_truth": n_pred / n_truth if n_truth else float("nan")})
    return pd.DataFrame(rows)
