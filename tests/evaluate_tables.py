"""Emitter tables for the tests of structloc.evaluate (imported by tests/test_evaluate_*.py)."""

from __future__ import annotations

import numpy as np

from structloc.emitters import Emitters


def table(rows, score=False) -> Emitters:
    """Emitters from (frame, x, y, z) rows; 1000 photons each."""
    rows = np.asarray(rows, dtype=float).reshape(-1, 4)
    n = len(rows)
    return Emitters(rows[:, 0].astype(int), rows[:, 1], rows[:, 2], rows[:, 3], np.full(n, 1000.0),
                    np.ones(n) if score else None)


def random_table(rng, n, n_frames=5, size_nm=2000.0) -> Emitters:
    return Emitters(rng.integers(0, n_frames, n), rng.uniform(0, size_nm, n), rng.uniform(0, size_nm, n),
                    rng.uniform(-600, 600, n), rng.uniform(0, 5000, n))


def jittered(truth: Emitters, rng, sigma_lat=20.0, sigma_ax=40.0) -> Emitters:
    n = len(truth)
    return Emitters(truth.frame, truth.x_nm + rng.normal(0, sigma_lat, n),
                    truth.y_nm + rng.normal(0, sigma_lat, n), truth.z_nm + rng.normal(0, sigma_ax, n),
                    truth.photons, np.ones(n))
