"""Chapter 6's claims against what they rest on: the committed study, the shipped models, the
paper's numbers as the package records them and the training defaults.

The chapter computes its verdict, headline and paragraphs from the committed results table
(:mod:`structloc.study.narrative`); these tests check that the table is the one the shipped
models give and covers the study, and that the few numbers its prose writes out by hand are the
package's own.
"""

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from structloc import pretrained
from structloc.study import (APPROACHES, PAPER_CLAIMS, StudyConfig, headline, read_results, significant_points,
                             summarize_claims, verdict_paragraphs)
from structloc.train_config import TrainConfig

BOOK = Path(__file__).resolve().parents[1] / "book"
RESULTS = BOOK / "results" / "structure_vs_random.csv"
CHAPTER = (BOOK / "06_structure_vs_random.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def committed():
    import json

    return read_results(RESULTS), json.loads(RESULTS.with_suffix(".json").read_text())


def test_committed_study_was_run_on_the_shipped_models(committed):
    _, provenance = committed
    for name, digest in provenance["model_sha256"].items():
        shipped = pretrained.checkpoint_path(Path(name).stem)
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() == digest, (
            f"{name}: the shipped model is not the one the committed study ran on; rerun the study")


def test_committed_table_covers_the_study_grid(committed):
    table, provenance = committed
    config = StudyConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in provenance["config"].items()})
    points = {(s, a, t) for s, a, t in zip(table.snr, table.approach, table.test_set.astype(str))}
    for snr in config.snrs:
        for approach in APPROACHES:
            for test_set in [f"{d:g}" for d in config.nominal_densities] + list(config.challenge_sets):
                assert (snr, approach, test_set) in points, (snr, approach, test_set)
    assert (table.n_frames == config.n_frames).all()
    # every helix row of the density grid carries its paired interval, and it contains its estimate
    counts = significant_points(table)
    assert (counts["points"] == len(config.nominal_densities)).all()
    helix = table[(table.approach == "helix") & ~table.test_set.astype(str).isin(config.challenge_sets)]
    assert np.isfinite(helix[["jaccard_diff_ci_low", "jaccard_diff_ci_high"]].to_numpy()).all()


def test_headline_and_paragraphs_quote_the_committed_claims(committed):
    table, _ = committed
    claims = summarize_claims(table)
    gain = claims[claims.claim == "jaccard_gain_percent"].set_index("snr").measured
    text = headline(claims)
    for snr, value in gain.items():
        assert f"{snr} SNR: JI {value:+.1f} %" in text
    first = verdict_paragraphs(claims, table)[0]
    assert ", ".join(f"{gain[s]:+.1f} %" for s in gain.index) in first


def _quoted(pattern: str) -> float:
    found = re.search(pattern, " ".join(CHAPTER.split()))
    assert found, f"chapter 6 no longer says {pattern!r}"
    return float(found.group(1))


def test_the_papers_numbers_in_the_introduction_are_the_packages():
    assert _quoted(r"about (\d+) % higher Jaccard index") == PAPER_CLAIMS["jaccard_gain_percent"]["high"]
    assert _quoted(r"and (\d+) % lower RMSE at high SNR") == PAPER_CLAIMS["rmse_vol_decrease_percent"]["high"]
    assert _quoted(r"\+([\d.]+) % and \+[\d.]+ % JI") == PAPER_CLAIMS["jaccard_gain_percent"]["medium"]
    assert _quoted(r"\+[\d.]+ % and \+([\d.]+) % JI") == PAPER_CLAIMS["jaccard_gain_percent"]["low"]
    assert _quoted(r"about (\d+) and \d+ nm lower volumetric RMSE") == PAPER_CLAIMS["rmse_vol_decrease_nm"]["medium"]
    assert _quoted(r"about \d+ and (\d+) nm lower volumetric RMSE") == PAPER_CLAIMS["rmse_vol_decrease_nm"]["low"]
    assert _quoted(r"about (\d+) % better 3D efficiency") == PAPER_CLAIMS["efficiency_3d_gain_percent"]["high"]


def test_the_training_density_range_in_the_prose_is_the_default():
    config = TrainConfig()
    for pattern in (r"count\* densities \(([\d.]+)-[\d.]+ per µm²\)", r"log-uniform ([\d.]+) to [\d.]+ /µm²"):
        assert _quoted(pattern) == config.density_min_per_um2
    for pattern in (r"count\* densities \([\d.]+-([\d.]+) per µm²\)", r"log-uniform [\d.]+ to ([\d.]+) /µm²"):
        assert _quoted(pattern) == config.density_max_per_um2


def test_seed_studies_ran_on_the_committed_seed_models_with_one_budget():
    import json

    from structloc.checkpoint import Checkpoint

    tables = sorted((BOOK / "results").glob("seeds_*.csv"))
    assert tables, "chapter 6 reads results/seeds_{snr}.csv and there is none"
    models = BOOK.parent / "models" / "seeds"
    budgets = []
    for path in tables:
        table, record = read_results(path), json.loads(path.with_suffix(".json").read_text())
        for name, digest in record["model_sha256"].items():
            assert hashlib.sha256((models / name).read_bytes()).hexdigest() == digest, (
                f"{name}: models/seeds holds another model than {path.name} ran on")
        assert table.training_seed.nunique() >= 2  # a spread needs two seeds
        # every model of every seed localized every test point
        assert table.groupby(["approach", "training_seed"]).size().nunique() == 1
        budgets += [b["steps"] for b in record["model_budgets"].values()]
    assert len(set(budgets)) == 1  # one budget for every seed model
    shipped = Checkpoint.load(pretrained.checkpoint_path("helix_high"))
    assert _quoted(r"a full-budget seed costs (\d+) CPU-minutes") == round(shipped.elapsed_s / 60)
