"""The verdict in words: the headline and the paragraphs chapter 6 prints, written from the results.

Every number in these sentences is taken from :func:`~structloc.study.claims.summarize_claims`,
the results table or the recall-by-depth split, so the chapter's prose regenerates with the
table and cannot drift from it. Positive effects mean helix training is better.
"""

from __future__ import annotations

import pandas as pd

from .claims import PAPER_CLAIMS, VERDICT_CLAIMS, claims_agreeing, significant_points
from .config import CHALLENGE_SETS

__all__ = ["headline", "verdict_paragraphs", "count_paragraph", "seed_paragraph"]


def _measured(claims: pd.DataFrame, claim: str) -> pd.Series:
    return claims[claims["claim"] == claim].set_index("snr")["measured"]


def headline(claims: pd.DataFrame) -> str:
    """One line per study: the relative JI gain and the claims helix wins, per SNR.

    Parameters
    ----------
    claims : pandas.DataFrame
        The output of :func:`~structloc.study.claims.summarize_claims`.

    Returns
    -------
    str
        E.g. ``"high SNR: JI -16.0 %, helix better on 2 of 8 claims; medium SNR: ..."``.
    """
    gain = _measured(claims, "jaccard_gain_percent")
    wins = claims_agreeing(claims)
    return "; ".join(f"{snr} SNR: JI {gain[snr]:+.1f} %, helix better on {wins.get(snr, 0)} of "
                     f"{len(VERDICT_CLAIMS)} claims" for snr in gain.index)


def _joined(values) -> str:
    return ", ".join(values)


def verdict_paragraphs(claims: pd.DataFrame, table: pd.DataFrame, depth_gap: pd.DataFrame | None = None) -> list[str]:
    """The paragraphs of chapter 6's "what holds, what does not": detection and accuracy, the
    trend with density, isolated emitters, the checkerboard and, with ``depth_gap``, deep emitters.

    Parameters
    ----------
    claims : pandas.DataFrame
        :func:`~structloc.study.claims.summarize_claims` of ``table``.
    table : pandas.DataFrame
        The results table the claims were computed from.
    depth_gap : pandas.DataFrame, optional
        :func:`~structloc.study.claims.recall_gap_by_depth` of the kept localizations; its first
        depth bin per SNR is the deepest.

    Returns
    -------
    list of str
        Markdown paragraphs.
    """
    by_claim = claims.set_index(["claim", "snr"])
    c = by_claim["measured"]
    snrs = list(_measured(claims, "jaccard_gain_percent").index)
    grid = table[~table["test_set"].astype(str).str.upper().isin(CHALLENGE_SETS)]
    significant = significant_points(table)
    recall = grid.pivot_table(index="snr", columns="approach", values="recall", aggfunc="mean")

    def per_snr(claim: str, fmt: str) -> str:
        return _joined(fmt.format(c[claim, s]) for s in snrs)

    def pooled(claim: str, approach: str) -> str:
        return _joined(f"{by_claim.loc[(claim, s), approach]:.2f}" for s in snrs)

    def mean_recall(approach: str) -> str:
        return _joined(f"{recall.loc[s, approach]:.2f}" for s in snrs)

    def counts(side: str) -> str:
        return _joined(str(significant.loc[s, side]) for s in snrs)

    paper_ji = PAPER_CLAIMS["jaccard_gain_percent"]
    paper = _joined(f"{paper_ji[s]:+g}" for s in snrs if s in paper_ji)
    lines = [
        "**Detection, accuracy, efficiency.** Averaged over the nine densities, helix training changes "
        f"the Jaccard index by {per_snr('jaccard_gain_percent', '{:+.1f} %')} ({_joined(snrs)} SNR; the paper: "
        f"{paper} %), the volumetric RMSE by "
        f"{per_snr('rmse_vol_decrease_nm', '{:+.1f} nm')} (positive: smaller error) and the 3D efficiency by "
        f"{per_snr('efficiency_3d_gain_points', '{:+.1f}')} points. The paired 95 % interval of the JI "
        f"difference excludes zero in helix's favour at {counts('helix')} and in csr's favour at "
        f"{counts('csr')} of the {significant['points'].iloc[0]} densities. Mean recall: helix "
        f"{mean_recall('helix')}, csr {mean_recall('csr')}.",
        "**Trend with density.** The JI difference changes by "
        f"{per_snr('jaccard_gain_trend_per_decade', '{:+.3f}')} per decade of density; the paper reports an "
        "advantage that grows with density (a rising difference is an advantage only where it is above "
        "zero: the verdict table says which).",
        "**Isolated emitters and axial precision.** At the lowest density the JI changes by "
        f"{per_snr('isolated_jaccard_gain_percent', '{:+.1f} %')}; the axial RMSE by "
        f"{per_snr('rmse_ax_decrease_nm', '{:+.1f} nm')} (positive: helix more precise).",
        "**Checkerboard.** The pooled index modulo the camera pixel (1 = no bias) is csr "
        f"{pooled('checkerboard_pixel', 'csr')} and helix {pooled('checkerboard_pixel', 'helix')}; modulo "
        f"25 nm (the grid head's output bin), csr {pooled('checkerboard_25nm', 'csr')} and helix "
        f"{pooled('checkerboard_25nm', 'helix')} (the ground truth of the same frames is the no-bias "
        "reference in the checkerboard figure above).",
    ]
    if depth_gap is not None and len(depth_gap):
        deepest = depth_gap.groupby("snr", sort=False).first()
        found = {a: _joined(f"{r:.0%}" for r in deepest[f"recall_{a}"]) for a in ("helix", "csr")}
        lines.append(
            f"**Deep emitters** (Figure 6.4, lowest density). Below −500 nm helix models find {found['helix']} "
            f"of the emitters and CSR models {found['csr']} ({_joined(deepest.index)} SNR), where the fitted "
            "PSF is widest.")
    return lines


def count_paragraph(counts: pd.DataFrame, test_set: str = "13", *, under: float = 0.75) -> str:
    """The expected counts at one test set in words (``counts`` from
    :func:`structloc.study.count_calibration`): each approach's expected count over the truth per
    SNR, which CSR models over-count (ratio > 1), and which models expect fewer than ``under``."""
    at = counts[counts.test_set.astype(str) == test_set].set_index(["snr", "approach"]).expected_per_truth
    snrs = list(dict.fromkeys(at.index.get_level_values("snr")))
    approaches = list(dict.fromkeys(at.index.get_level_values("approach")))
    over = [snr for snr in snrs if at[(snr, "csr")] > 1.0]
    text = (f"On the test set {test_set} /µm² nominal the CSR models expect "
            + " / ".join(f"{at[(snr, 'csr')]:.2f}" for snr in snrs)
            + " times the true number of emitters and the helix models "
            + " / ".join(f"{at[(snr, 'helix')]:.2f}" for snr in snrs)
            + f" ({' / '.join(snrs)} SNR). ")
    text += (f"At {' and '.join(over)} SNR the CSR network counts more emitters in the crowded filaments "
             "than there are, before any decoding: it learned its count on uniformly scattered emitters "
             "and never saw them packed along lines." if over else "No CSR model over-counts there.")
    text += "".join(f" The {approach} model at {snr} SNR expects only {at[(snr, approach)]:.2f} of them: it "
                    "misses emitters before any decoding."
                    for snr in snrs for approach in approaches if at[(snr, approach)] < under)
    return text


def seed_paragraph(spread: pd.DataFrame) -> str:
    """The training-seed spread in words (``spread`` from :func:`structloc.study.seed_spread` of the
    Jaccard index), one sentence group per SNR over the nominal-density grid (challenge sets out):
    at how many densities helix is better in every seed, the range of the mean difference, the
    seed-to-seed spread against the test-frame interval, and where the interval over seeds
    excludes zero."""
    grid = spread[~spread["test_set"].astype(str).str.upper().isin(CHALLENGE_SETS)]
    parts = []
    for snr, rows in grid.groupby("snr", sort=False):
        n, seeds = len(rows), int(rows["n_seeds"].min())
        every = int((rows["helix_better"] == rows["n_seeds"]).sum())
        none = int((rows["helix_better"] == 0).sum())
        text = (f"At {snr} SNR, with {seeds} training seeds per sampler, helix training gives the higher JI "
                f"in every seed at {every} of {n} nominal densities")
        text += f" and in none at {none}. " if none else ". "
        text += (f"The mean difference (helix - csr) runs from {rows['mean_diff'].min():+.3f} to "
                 f"{rows['mean_diff'].max():+.3f}; from one training seed to the next it moves by a standard "
                 f"deviation of {rows['sd_diff'].median():.3f} (median over densities, at most "
                 f"{rows['sd_diff'].max():.3f}), against a test-frame 95 % half-width of "
                 f"{rows['test_half_width'].median():.3f}. A model's own JI moves by "
                 f"{pd.concat([rows['sd_csr'], rows['sd_helix']]).median():.3f} from seed to seed. ")
        helix_side = int((rows["seed_ci_low"] > 0).sum())
        csr_side = int((rows["seed_ci_high"] < 0).sum())
        text += (f"The 95 % interval of the mean over seeds excludes zero at {helix_side} of {n} densities in "
                 f"helix's favour and at {csr_side} in csr's.")
        parts.append(text)
    return " ".join(parts)
