"""The study's claims: helix vs csr comparisons from a results table, next to the paper's values.

:func:`summarize_claims` turns a results table (:func:`structloc.study.runner.run`) into the
study's comparisons, each next to the value the paper reports; :func:`describe_claims` says them
in words and :func:`verdict_table` as one table, claim by SNR. :func:`pooled_checkerboard` and
:func:`recall_gap_by_depth` are the two measures the chapter looks at beside them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..evaluate import axial_profile
from ..snr import SNR_PRESETS
from .config import APPROACHES, CHALLENGE_SETS

__all__ = ["PAPER_CLAIMS", "VERDICT_CLAIMS", "summarize_claims", "describe_claims", "verdict_table",
           "claims_agreeing", "pooled_checkerboard", "recall_gap_by_depth"]

#: What the study reports (Abdehkakha et al.), per SNR: relative JI gain (%), RMSE_vol decrease
#: (relative % at high SNR, absolute nm at medium and low), relative 3D efficiency gain (%).
PAPER_CLAIMS: dict[str, dict[str, float]] = {
    "jaccard_gain_percent": {"high": 20.0, "medium": 7.2, "low": 2.2},
    "rmse_vol_decrease_percent": {"high": 35.0},
    "rmse_vol_decrease_nm": {"medium": 28.0, "low": 31.0},
    "efficiency_3d_gain_percent": {"high": 20.0, "medium": 20.0, "low": 20.0},
    # The paper's "%" may mean percentage points (it prints JI and E in percent): both are compared.
    "jaccard_gain_points": {"high": 20.0, "medium": 7.2, "low": 2.2},
    "efficiency_3d_gain_points": {"high": 20.0, "medium": 20.0, "low": 20.0},
}


def pooled_checkerboard(df: pd.DataFrame, period: str = "pixel") -> pd.DataFrame:
    """Checkerboard index pooled over test sets, per (approach, snr): sum chi2 / sum dof.

    Independent test sets' chi-square statistics add (as do their degrees of freedom), so the
    pooled index is again about 1 without sub-pixel bias; its standard error under no bias is
    ``sqrt(2 / sum dof)``.

    Parameters
    ----------
    df : pandas.DataFrame
        Results table.
    period : {"pixel", "25nm"}
        Camera pixel (100 nm) or output bin (25 nm).

    Returns
    -------
    pandas.DataFrame
        Columns approach, snr, checkerboard, dof, se_no_bias.
    """
    prefix = {"pixel": "checkerboard", "25nm": "checkerboard_25nm"}.get(period)
    if prefix is None:
        raise ValueError(f"period must be 'pixel' or '25nm', got {period!r}")
    grouped = df.groupby(["approach", "snr"], sort=False)[[f"{prefix}_chi2", f"{prefix}_dof"]].sum()
    out = grouped.reset_index()
    out["checkerboard"] = out[f"{prefix}_chi2"] / out[f"{prefix}_dof"]
    out["dof"] = out[f"{prefix}_dof"].astype(int)
    out["se_no_bias"] = np.sqrt(2.0 / out["dof"])
    return out[["approach", "snr", "checkerboard", "dof", "se_no_bias"]]


def recall_gap_by_depth(locs: dict, edges_nm: Sequence[float] | None = None) -> pd.DataFrame:
    """Split the csr - helix recall difference into slabs of true depth z.

    With the same ground truth for both approaches, the overall recall is the sum over slabs of
    (share of the emitters in the slab) x (recall in the slab), so the recall difference is the
    sum of the per-slab contributions ``share * (recall_csr - recall_helix)``.

    Parameters
    ----------
    locs : dict of (row, snr) -> Emitters
        ``("truth", snr)``, ``("csr", snr)`` and ``("helix", snr)`` tables of the same frames (see
        :func:`read_locs`); SNRs without all three are skipped.
    edges_nm : sequence of float, optional
        Slab edges in nm (default: see :func:`structloc.evaluate.axial_profile`).

    Returns
    -------
    pandas.DataFrame
        Columns snr, z_low_nm, z_high_nm, share (fraction of the emitters in the slab),
        recall_csr, recall_helix, gap_contribution (adds up over slabs to the overall
        recall_csr - recall_helix of that SNR).
    """
    if not isinstance(locs, dict):
        raise TypeError(f"locs must be a dict of (row, snr) -> Emitters, got {type(locs).__name__}")
    parts = []
    for snr in SNR_PRESETS:
        if not all((row, snr) in locs for row in ("truth", *APPROACHES)):
            continue
        truth = locs[("truth", snr)]
        prof = {a: axial_profile(truth, locs[(a, snr)], edges_nm) for a in APPROACHES}
        share = prof["csr"].n_truth / max(1, len(truth))
        recall = {a: prof[a].recall.fillna(0.0) for a in APPROACHES}
        parts.append(pd.DataFrame({
            "snr": snr, "z_low_nm": prof["csr"].z_low_nm, "z_high_nm": prof["csr"].z_high_nm, "share": share,
            "recall_csr": prof["csr"].recall, "recall_helix": prof["helix"].recall,
            "gap_contribution": share * (recall["csr"] - recall["helix"]),
        }))
    if not parts:
        raise ValueError("locs holds no SNR with truth, csr and helix tables")
    return pd.concat(parts, ignore_index=True)


def _pivot(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean of ``metric`` per (snr, approach) over the nominal-density grid (challenge sets out)."""
    grid = df[df["test_set"].map(lambda s: str(s).upper() not in CHALLENGE_SETS)]
    return grid.groupby(["snr", "approach"])[metric].mean().unstack("approach")


def significant_points(table: pd.DataFrame) -> pd.DataFrame:
    """Per SNR, the nominal densities whose paired 95 % JI interval excludes zero, each way.

    Parameters
    ----------
    table : pandas.DataFrame
        A study results table (:data:`~structloc.study.runner.RESULT_COLUMNS`); the paired
        interval ``jaccard_diff_ci_low/high`` (helix - csr) sits on the helix rows.

    Returns
    -------
    pandas.DataFrame
        Index: SNR (in table order); columns ``helix`` (interval above zero), ``csr`` (below
        zero) and ``points`` (densities with a paired interval). The challenge sets are not
        counted; a table without paired intervals gives no rows.
    """
    rows = {}
    if "jaccard_diff_ci_low" in table.columns:
        grid = table[~table["test_set"].astype(str).str.upper().isin(CHALLENGE_SETS) & (table["approach"] == "helix")]
        for snr, part in grid.groupby("snr", sort=False):
            finite = part[np.isfinite(part["jaccard_diff_ci_low"])]
            if len(finite):
                rows[snr] = {"helix": int((finite["jaccard_diff_ci_low"] > 0).sum()),
                             "csr": int((finite["jaccard_diff_ci_high"] < 0).sum()), "points": len(finite)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["helix", "csr", "points"])



def summarize_claims(df: pd.DataFrame) -> pd.DataFrame:
    """The study's comparisons, computed from a results table.

    Every comparison is helix vs csr per SNR, on the nominal-density grid (challenge sets
    excluded; metrics averaged over the densities, each density weighted equally):

    * ``jaccard_gain_percent``: 100 (JI_helix - JI_csr) / JI_csr;
    * ``rmse_vol_decrease_percent`` and ``rmse_vol_decrease_nm``: (RMSE_csr - RMSE_helix),
      relative (%) and in nm;
    * ``rmse_ax_decrease_nm``, ``rmse_lat_decrease_nm``: the same for the axial and lateral RMSE;
    * ``jaccard_gain_points``: 100 (JI_helix - JI_csr), percentage points;
    * ``efficiency_3d_gain_percent``: 100 (E_helix - E_csr) / |E_csr| (ill-conditioned when E_csr
      is near 0), and ``efficiency_3d_gain_points``: 100 (E_helix - E_csr), percentage points
      (the paper prints JI and E in percent, so its "20 % better" may mean either);
    * ``jaccard_gain_trend_per_decade``: least-squares slope of (JI_helix - JI_csr) against
      log10(nominal density) (> 0: the advantage grows with density);
    * ``isolated_jaccard_gain_percent``, ``isolated_rmse_vol_decrease_nm``: the same at the lowest
      nominal density;
    * ``jaccard_points_helix_better``: of the densities with a paired interval
      (:func:`structloc.evaluate.paired_difference`, counted by :func:`significant_points`), how
      many show helix significantly better (``helix`` column) and csr significantly better
      (``csr`` column); ``measured`` is their difference;
    * ``checkerboard_pixel``, ``checkerboard_25nm``: pooled index (:func:`pooled_checkerboard`)
      per approach (csr/helix columns; difference = csr - helix).

    Returns
    -------
    pandas.DataFrame
        Columns claim, snr, csr, helix, difference, measured, paper, agrees. ``measured`` is the
        number to compare with ``paper`` (the paper's value, NaN if it gives none); ``agrees`` is
        True when the measured effect has the paper's sign (helix better), NaN when undefined.
    """
    required = {"approach", "snr", "test_set", "nominal_density", "jaccard", "rmse_lat_nm", "rmse_ax_nm",
                "rmse_vol_nm", "efficiency_3d", "checkerboard_chi2", "checkerboard_dof",
                "checkerboard_25nm_chi2", "checkerboard_25nm_dof"}
    missing = sorted(required - set(df.columns))
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    if not set(APPROACHES) <= set(df["approach"]):
        raise ValueError(f"results table needs both approaches {list(APPROACHES)}, has {sorted(set(df['approach']))}")
    rows: list[dict[str, Any]] = []
    snrs = [s for s in SNR_PRESETS if s in set(df["snr"])]

    def add(claim: str, snr: str, csr: float, helix: float, difference: float, measured: float) -> None:
        paper = PAPER_CLAIMS.get(claim, {}).get(snr, float("nan"))
        agrees = float("nan") if not np.isfinite(measured) else bool(measured > 0)
        rows.append({"claim": claim, "snr": snr, "csr": float(csr), "helix": float(helix),
                     "difference": float(difference), "measured": float(measured), "paper": paper,
                     "agrees": agrees})

    significant = significant_points(df)
    means = {m: _pivot(df, m) for m in ("jaccard", "rmse_vol_nm", "rmse_ax_nm", "rmse_lat_nm", "efficiency_3d")}
    grid = df[df["test_set"].map(lambda s: str(s).upper() not in CHALLENGE_SETS)].copy()
    grid["nominal_key"] = grid["test_set"].astype(str)
    for snr in snrs:
        ji = means["jaccard"].loc[snr]
        add("jaccard_gain_percent", snr, ji["csr"], ji["helix"], ji["helix"] - ji["csr"],
            100 * (ji["helix"] - ji["csr"]) / ji["csr"])
        for metric, name in (("rmse_vol_nm", "vol"), ("rmse_ax_nm", "ax"), ("rmse_lat_nm", "lat")):
            r = means[metric].loc[snr]
            add(f"rmse_{name}_decrease_nm", snr, r["csr"], r["helix"], r["csr"] - r["helix"], r["csr"] - r["helix"])
            if name == "vol":
                add("rmse_vol_decrease_percent", snr, r["csr"], r["helix"], r["csr"] - r["helix"],
                    100 * (r["csr"] - r["helix"]) / r["csr"])
        add("jaccard_gain_points", snr, ji["csr"], ji["helix"], ji["helix"] - ji["csr"],
            100 * (ji["helix"] - ji["csr"]))
        e = means["efficiency_3d"].loc[snr]
        add("efficiency_3d_gain_percent", snr, e["csr"], e["helix"], e["helix"] - e["csr"],
            100 * (e["helix"] - e["csr"]) / abs(e["csr"]))
        add("efficiency_3d_gain_points", snr, e["csr"], e["helix"], e["helix"] - e["csr"],
            100 * (e["helix"] - e["csr"]))
        per = grid[grid["snr"] == snr].pivot_table(index="nominal_key", columns="approach",
                                                    values=["jaccard", "rmse_vol_nm", "nominal_density"])
        if len(per) >= 1:
            density = per["nominal_density"].mean(axis=1)
            gain = per["jaccard"]["helix"] - per["jaccard"]["csr"]
            if len(per) >= 2:
                slope = float(np.polyfit(np.log10(density.to_numpy()), gain.to_numpy(), 1)[0])
                add("jaccard_gain_trend_per_decade", snr, float("nan"), float("nan"), slope, slope)
            lowest = density.idxmin()
            j, r = per["jaccard"].loc[lowest], per["rmse_vol_nm"].loc[lowest]
            add("isolated_jaccard_gain_percent", snr, j["csr"], j["helix"], j["helix"] - j["csr"],
                100 * (j["helix"] - j["csr"]) / j["csr"])
            add("isolated_rmse_vol_decrease_nm", snr, r["csr"], r["helix"], r["csr"] - r["helix"],
                r["csr"] - r["helix"])
        if snr in significant.index:
            better, worse = (int(significant.loc[snr, side]) for side in ("helix", "csr"))
            add("jaccard_points_helix_better", snr, worse, better, better - worse, better - worse)
    for period in ("pixel", "25nm"):
        pooled = pooled_checkerboard(df, period).set_index(["snr", "approach"])["checkerboard"]
        for snr in snrs:
            c, h = pooled.get((snr, "csr"), np.nan), pooled.get((snr, "helix"), np.nan)
            add(f"checkerboard_{period}", snr, c, h, c - h, c - h)
    return pd.DataFrame(rows, columns=["claim", "snr", "csr", "helix", "difference", "measured", "paper", "agrees"])


_CLAIM_TEXT = {
    "jaccard_gain_percent": ("Jaccard index, helix vs csr", "{:+.1f} %"),
    "rmse_vol_decrease_percent": ("volumetric RMSE decrease", "{:+.1f} %"),
    "rmse_vol_decrease_nm": ("volumetric RMSE decrease", "{:+.1f} nm"),
    "rmse_ax_decrease_nm": ("axial RMSE decrease", "{:+.1f} nm"),
    "rmse_lat_decrease_nm": ("lateral RMSE decrease", "{:+.1f} nm"),
    "efficiency_3d_gain_percent": ("3D efficiency, helix vs csr", "{:+.1f} %"),
    "jaccard_gain_points": ("Jaccard index, helix - csr", "{:+.1f} points"),
    "efficiency_3d_gain_points": ("3D efficiency, helix - csr", "{:+.1f} points"),
    "jaccard_gain_trend_per_decade": ("JI gain (helix - csr) per decade of density", "{:+.3f}"),
    "isolated_jaccard_gain_percent": ("JI gain at the lowest density", "{:+.1f} %"),
    "isolated_rmse_vol_decrease_nm": ("RMSE_vol decrease at the lowest density", "{:+.1f} nm"),
    "jaccard_points_helix_better": ("densities with JI significantly better (paired 95 % CI)",
                                    "helix {helix:.0f}, csr {csr:.0f}"),
    "checkerboard_pixel": ("checkerboard chi2/dof mod 100 nm", "csr {csr:.2f}, helix {helix:.2f}"),
    "checkerboard_25nm": ("checkerboard chi2/dof mod 25 nm", "csr {csr:.2f}, helix {helix:.2f}"),
}


def describe_claims(claims: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`summarize_claims`: the measured value, the paper's, agreement.

    Positive numbers mean helix training is better (higher JI/efficiency, lower RMSE or
    checkerboard index).
    """
    lines = []
    for _, c in claims.iterrows():
        what, fmt = _CLAIM_TEXT.get(c["claim"], (c["claim"], "{:+.3g}"))
        value = fmt.format(c["measured"], csr=c["csr"], helix=c["helix"])
        paper = "" if not np.isfinite(c["paper"]) else "; paper " + fmt.format(c["paper"], csr=np.nan, helix=np.nan)
        if isinstance(c["agrees"], (bool, np.bool_)):
            verdict = "helix better" if c["agrees"] else "helix not better"
        else:
            verdict = "undefined"
        lines.append(f"{c['snr']:>6} SNR | {what}: {value}{paper} -> {verdict}")
    return lines


#: Rows of :func:`verdict_table`: claim, label. The paper's "+20 %" JI gain is relative; its
#: efficiency gains are compared in percentage points (the paper prints E in percent).
VERDICT_CLAIMS: tuple[tuple[str, str], ...] = (
    ("jaccard_gain_percent", "Jaccard index, relative gain (%)"),
    ("rmse_vol_decrease_percent", "RMSE_vol decrease (%)"),
    ("rmse_vol_decrease_nm", "RMSE_vol decrease (nm)"),
    ("efficiency_3d_gain_points", "3D efficiency gain (points)"),
    ("rmse_ax_decrease_nm", "axial RMSE decrease (nm)"),
    ("isolated_jaccard_gain_percent", "JI gain at the lowest density (%)"),
    ("jaccard_gain_trend_per_decade", "helix advantage grows with density (JI slope per decade)"),
    ("checkerboard_pixel", "checkerboard index mod pixel, csr - helix"),
)


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims as one compact table: a row per claim, a column per SNR.

    Each cell reads ``measured (paper P): yes|no`` — the measured helix-vs-csr effect of
    :func:`summarize_claims` (positive: helix better), the paper's value where it gives one, and
    whether helix training is better. Claims without a row for an SNR are left blank. A rising
    JI difference counts as a growing advantage only where helix is better on average; a rising
    deficit reads "no (a deficit that shrinks)".

    Returns
    -------
    pandas.DataFrame
        Index: the claim labels of :data:`VERDICT_CLAIMS`; columns: SNRs.
    """
    by = claims.set_index(["claim", "snr"])
    snrs = [s for s in SNR_PRESETS if s in set(claims["snr"])]
    table = {}
    for claim, label in VERDICT_CLAIMS:
        fmt = _CLAIM_TEXT[claim][1] if "{:" in _CLAIM_TEXT[claim][1] else "{:+.2f}"
        cells = []
        for snr in snrs:
            if (claim, snr) not in by.index:
                cells.append("")
                continue
            c = by.loc[(claim, snr)]
            text = fmt.format(c["measured"])
            if np.isfinite(c["paper"]):
                text += f" (paper {fmt.format(c['paper'])})"
            agrees = c["agrees"]
            verdict = "yes" if agrees is True or agrees == 1.0 else "no" if agrees is False or agrees == 0.0 \
                else "undefined"
            if claim == "jaccard_gain_trend_per_decade" and verdict == "yes" and \
                    ("jaccard_gain_points", snr) in by.index and by.loc[("jaccard_gain_points", snr)]["measured"] < 0:
                verdict = "no (a deficit that shrinks)"  # a rising difference is only an advantage above 0
            text += ": " + verdict
            cells.append(text)
        table[label] = cells
    return pd.DataFrame.from_dict(table, orient="index", columns=snrs)


def claims_agreeing(claims: pd.DataFrame) -> pd.Series:
    """Per SNR, how many of :data:`VERDICT_CLAIMS` show helix training better (of those defined)."""
    rows = claims[claims["claim"].isin([c for c, _ in VERDICT_CLAIMS])]
    defined = rows[rows["agrees"].notna()]
    return defined.groupby("snr", sort=False)["agrees"].agg(lambda a: int(sum(bool(x) for x in a)))
