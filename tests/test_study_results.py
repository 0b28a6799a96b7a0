"""Files of the study: the results CSV and the kept localizations."""

import numpy as np
import pandas as pd
import pytest

from structloc import Emitters
from structloc.study import read_locs, read_results, write_locs, write_results


def test_results_csv_round_trips_and_writes_atomically(synthetic_results, tmp_path):
    df = synthetic_results
    path = tmp_path / "results.csv"
    write_results(df, path)
    back = read_results(path)
    pd.testing.assert_frame_equal(back.drop(columns="test_set"), df.drop(columns="test_set"), check_dtype=False)
    assert list(back["test_set"].astype(str)) == list(df["test_set"])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="command"):
        write_results(df.drop(columns="command"), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_results(df, tmp_path / "missing" / "r.csv")
    with pytest.raises(FileNotFoundError, match="no results"):
        read_results(tmp_path / "none.csv")


def test_write_locs_rejects_bad_tables(tmp_path):
    with pytest.raises(TypeError, match="Emitters"):
        write_locs({("csr", "high"): np.zeros(3)}, tmp_path / "l.csv")
    write_locs({}, tmp_path / "empty.csv")
    assert read_locs(tmp_path / "empty.csv") == {}
    # a model that found nothing keeps its (empty) table
    truth = Emitters([0, 2], [10.0, 20.0], [30.0, 40.0], [0.0, 5.0], [1.0, 1.0])
    write_locs({("csr", "low"): Emitters.empty(), ("truth", "low"): truth}, tmp_path / "some.csv.gz")
    back = read_locs(tmp_path / "some.csv.gz")
    assert len(back[("csr", "low")]) == 0 and np.array_equal(back[("truth", "low")].frame, [0, 2])
