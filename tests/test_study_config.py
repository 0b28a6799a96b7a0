"""What the study runs: StudyConfig and its checks."""

import numpy as np
import pytest

from structloc.study import StudyConfig


@pytest.mark.parametrize("kwargs, match", [
    ({"snrs": ("ultra",)}, "unknown SNR"), ({"approaches": ("random",)}, "unknown approach"),
    ({"n_frames": 0}, "n_frames"), ({"confidence": 1.5}, "confidence"), ({"nominal_densities": (np.nan,)}, "finite"),
    ({"challenge_sets": ("XD",)}, "unknown set"), ({"snrs": "high"}, "tuple"),
    ({"nominal_densities": (), "challenge_sets": ()}, "at least one"),
])
def test_study_config_names_the_problem(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        StudyConfig(**kwargs)

def test_quick_config_is_reduced():
    quick = StudyConfig.quick()
    assert len(quick.test_sets) < len(StudyConfig().test_sets) and quick.n_frames < StudyConfig().n_frames
    assert len(StudyConfig().nominal_densities) >= 9
    assert min(StudyConfig().nominal_densities) == 0.38 and max(StudyConfig().nominal_densities) == 13
