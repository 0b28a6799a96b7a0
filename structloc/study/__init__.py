"""The study: CSR vs structure-based (helix) training, across signal levels and densities.

For each signal level (SNR preset) the shipped models (package data, :mod:`structloc.pretrained`;
``structloc/data/models/{csr,helix}_{snr}.pt``) localize the *same* test frames, simulated from
the SMLM Challenge 2016 MT0 ground-truth positions:

* at target **nominal** densities (default nine, log-spaced from 0.38 to 13 per um^2, as the
  study). MT0 emitters lie on microtubules, so a frame looks denser than its count says; the
  count density that gives each target nominal density is found by a seeded calibration
  (:func:`structloc.density.mt0_count_density_for_nominal`);
* on the challenge's own **LD** and **HD** activation tables: ``n_frames`` frames drawn (seeded)
  from the real table, positions kept, photons redrawn from the SNR preset so that only the
  positions come from the challenge.

The package reads in the order of a study:

* :mod:`~structloc.study.config`: what runs (:class:`StudyConfig`, the approaches, test sets and
  their checks);
* :mod:`~structloc.study.testsets`: the frames of one test point (:func:`simulate_test_set`);
* :mod:`~structloc.study.runner`: one results row per point (:func:`run_point`) and the whole
  study (:func:`run`, returning a :class:`StudyRun` of the rows and the kept localizations);
* :mod:`~structloc.study.results`: the results CSV, the kept localizations and the provenance;
* :mod:`~structloc.study.claims`: the comparisons with the paper (:func:`summarize_claims`,
  :func:`verdict_table`);
* :mod:`~structloc.study.narrative`: the verdict in words (:func:`headline`,
  :func:`verdict_paragraphs`), every number taken from the claims;
* :mod:`~structloc.study.counting`: how many emitters each model expects in the test frames
  against the truth (:func:`count_calibration`);
* :mod:`~structloc.study.crowding`: how crowded the emitters of each sampler's frames are, by
  what their frame costs their precision (:func:`crowding_of_frames`, :func:`distance_to`);
* :mod:`~structloc.study.seeds`: with several training seeds per model, the seed-to-seed spread of
  the helix - csr difference beside the test-frame interval (:func:`seed_spread`);
* the command ``structloc study`` is :mod:`structloc.cli.study`.

The density calibration of MT0 frames lives in :mod:`structloc.density` and the paired bootstrap
in :mod:`structloc.evaluate`; both are importable from here too, as before.
"""

from ..density import mt0_count_density_for_nominal, mt0_nominal_curve
from ..evaluate import paired_difference
from .claims import (PAPER_CLAIMS, VERDICT_CLAIMS, claims_agreeing, describe_claims, pooled_checkerboard,
                     recall_gap_by_depth, significant_points, summarize_claims, verdict_table)
from .counting import count_calibration
from .crowding import crowding_of_frames, distance_to
from .narrative import count_paragraph, headline, seed_paragraph, verdict_paragraphs
from .config import APPROACHES, CHALLENGE_SETS, QUICK_NOMINAL_DENSITIES, STUDY_NOMINAL_DENSITIES, StudyConfig
from .results import (locs_path_for, model_budgets, model_checksums, read_locs, read_results, write_locs, write_provenance,
                      write_results)
from .runner import RESULT_COLUMNS, StudyRun, model_path, point_command, run, run_point
from .seeds import SEED_METRICS, SPREAD_COLUMNS, seed_spread
from .testsets import TestSet, simulate_test_set

__all__ = [
    "APPROACHES", "CHALLENGE_SETS", "STUDY_NOMINAL_DENSITIES", "QUICK_NOMINAL_DENSITIES", "StudyConfig",
    "mt0_nominal_curve", "mt0_count_density_for_nominal", "TestSet", "simulate_test_set",
    "RESULT_COLUMNS", "model_path", "point_command", "run_point", "StudyRun", "run",
    "paired_difference", "write_results", "read_results", "write_locs", "read_locs", "locs_path_for",
    "write_provenance", "model_checksums", "model_budgets", "PAPER_CLAIMS", "VERDICT_CLAIMS", "summarize_claims",
    "describe_claims", "verdict_table", "claims_agreeing", "pooled_checkerboard", "recall_gap_by_depth",
    "headline", "significant_points", "verdict_paragraphs", "count_calibration", "count_paragraph",
    "SEED_METRICS", "SPREAD_COLUMNS", "seed_spread", "seed_paragraph", "crowding_of_frames", "distance_to",
]
