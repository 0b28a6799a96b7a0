"""The study's verdict as a reader sees it: one compact table and a one-paragraph headline.

Both are computed from :func:`structloc.study.summarize_claims`, so a chapter that shows them
regenerates from the results table and never quotes a number by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["VERDICT_CLAIMS", "verdict_table", "headline"]

#: Claims in the verdict table: (claim, label, unit). Relative claims are compared with the
#: paper's relative numbers only; the percentage-point variants of summarize_claims are left out
#: because the paper's "+20 %" is a relative gain.
VERDICT_CLAIMS: tuple[tuple[str, str, str], ...] = (
    ("jaccard_gain_percent", "Jaccard index, helix vs csr", "%"),
    ("rmse_vol_decrease_percent", "volumetric RMSE decrease", "%"),
    ("rmse_vol_decrease_nm", "volumetric RMSE decrease", "nm"),
    ("rmse_ax_decrease_nm", "axial RMSE decrease", "nm"),
    ("efficiency_3d_gain_percent", "3D efficiency, helix vs csr", "%"),
    ("isolated_jaccard_gain_percent", "JI gain at the lowest density", "%"),
    ("jaccard_gain_trend_per_decade", "JI difference, change per decade of density", "/decade"),
    ("jaccard_points_helix_better", "densities where one approach has the significantly higher JI", "count"),
)


def _value(x: float, unit: str) -> str:
    if not np.isfinite(x):
        return "-"
    if unit == "/decade":
        return f"{x:+.3f}"
    return f"{x:+.1f} {unit}"


def _verdict(row: pd.Series, claim: str, jaccard_gain: float) -> str:
    if claim == "jaccard_gain_trend_per_decade":  # a positive slope narrows a deficit, if there is one
        if not np.isfinite(row["measured"]):
            return "undefined"
        rising = row["measured"] > 0
        if jaccard_gain < 0:
            return "deficit narrows" if rising else "deficit widens"
        return "advantage grows" if rising else "advantage shrinks"
    if claim == "jaccard_points_helix_better":
        return f"helix {row['helix']:.0f}, csr {row['csr']:.0f}"
    if not isinstance(row["agrees"], (bool, np.bool_)):
        return "undefined"
    return "holds" if row["agrees"] else "fails"


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim, one column per SNR: "measured (paper X): verdict".

    Parameters
    ----------
    claims : pandas.DataFrame
        The output of :func:`structloc.study.summarize_claims`.

    Returns
    -------
    pandas.DataFrame
        Index: claim labels (with units); columns: the SNRs in the order they appear.
        Positive numbers mean helix training is better.
    """
    indexed = claims.set_index(["claim", "snr"])
    snrs = list(dict.fromkeys(claims["snr"]))
    rows = {}
    for claim, label, unit in VERDICT_CLAIMS:
        cells = {}
        for snr in snrs:
            if (claim, snr) not in indexed.index:
                cells[snr] = "-"
                continue
            row = indexed.loc[(claim, snr)]
            gain = float(indexed.loc[("jaccard_gain_percent", snr), "measured"]) \
                if ("jaccard_gain_percent", snr) in indexed.index else np.nan
            if unit == "count":  # the verdict says it all: how many densities favour each approach
                cells[snr] = _verdict(row, claim, gain)
                continue
            paper = f" (paper {_value(row['paper'], unit)})" if np.isfinite(row["paper"]) else ""
            cells[snr] = f"{_value(row['measured'], unit)}{paper}: {_verdict(row, claim, gain)}"
        rows[label] = cells
    table = pd.DataFrame.from_dict(rows, orient="index", columns=snrs)
    table.index.name = "claim (positive = helix better)"
    table.columns = [f"{snr} SNR" for snr in snrs]
    return table


def headline(claims: pd.DataFrame) -> str:
    """The verdict in one Markdown sentence: does helix training beat CSR, by how much, per SNR."""
    ji = claims[claims.claim == "jaccard_gain_percent"].set_index("snr")
    rmse = claims[claims.claim == "rmse_vol_decrease_nm"].set_index("snr")
    snrs = list(ji.index)
    agree = [bool(ji.loc[s, "agrees"]) for s in snrs]
    verdict = ("Helix training beats CSR training" if all(agree) else
               "Helix training does **not** beat CSR training" if not any(agree) else
               "Helix training beats CSR training only at some signal levels")
    join = " / ".join
    paper = join(f"{ji.loc[s, 'paper']:+.1f}" if np.isfinite(ji.loc[s, "paper"]) else "n/a" for s in snrs)
    ji_values = join(f"{ji.loc[s, 'measured']:+.1f}" for s in snrs)
    rmse_values = join(f"{rmse.loc[s, 'measured']:+.1f}" for s in snrs)
    return (f"{verdict} here. Jaccard index, helix vs csr: {ji_values} % (paper {paper} %); "
            f"volumetric RMSE decrease {rmse_values} nm, at {join(snrs)} SNR "
            f"(averages over the nominal-density grid; positive = helix better).")
