"""The study's identity check: fixed seeds give byte-identical frames, localizations and rows.

The expected digests were computed from the study code as it was before it was split into the
``structloc.study`` package (issue 14); any refactor of the study, the simulation or the
evaluation that keeps behaviour must keep them. A change that is *meant* to change results
updates them, and says so.

The localizers are seeded, untrained tiny networks (not trained, not the shipped models), so the
check depends on neither the trainer nor the shipped weights: only on the network's architecture
and initialisation order, the simulation, the decoding, the evaluation and the study itself.
Torch runs on one CPU thread, so the float sums of the convolutions have one order (one and two
threads gave the same digests here). The network's float sums depend on the CPU's instruction
set, though (``tests/cpu_kind.py``): with torch 2.13.0+cpu and numpy 2.4.6 an AMD EPYC machine and
an Intel Xeon with AVX-512 gave different localization and row digests from the same code (commit
330a8ca). Digests are keyed by the CPU; on a CPU kind not recorded here the network-dependent
check is skipped, saying which kind it is (the frames are checked everywhere).

The localization and row digests were re-recorded when the mixture head's decoder changed from
keeping the most probable bin within 100 nm to clustering bins by their predicted positions
(``structloc.clusters``): a change meant to change results. Only the AMD EPYC kind could be
recomputed then; the Intel AVX-512 digests were dropped, so that kind now skips this check.

The frames use the PSF centred on its emitter (``AstigmaticPSF().without_drift()``), the model the
digests were computed with before the PSF gained its centre drift: this also checks that a PSF
without drift reproduces the earlier model exactly.
"""

import hashlib

import numpy as np
import pytest
import torch

from untrained import hesitant

from structloc import Field
from structloc.camera import EMCCD
from structloc.heads import head_spec
from structloc.localize import Localizer
from structloc.model import LocNet, model_config
from structloc.psf import AstigmaticPSF
from structloc.study import StudyConfig, run, simulate_test_set
from structloc.train import TrainConfig

from cpu_kind import recorded_for_this_cpu

CENTRED = AstigmaticPSF().without_drift()

#: sha256 of the test-set frames (uint16 bytes, C order) of the identity configuration.
FRAMES_SHA256 = {
    "0.38": "4095c847d5378d2d67fa3b6e8b3a5d81cd21b6b2040a3d2e91b0a773a1d68159",
    "LD": "2b22f32b6de9b3f5098e46dd0b08daee9bba3ef00b20f9847ce40c491806d96f",
}
#: sha256 of the kept localizations (truth, csr, helix at 0.38 per um^2) and of the result rows, per
#: CPU kind: "vendor/capability" (torch.backends.cpu.get_cpu_capability()), or the vendor alone
#: where the capability was not recorded.
NETWORK_SHA256 = {
    "AuthenticAMD": ("3917d5ba6d04afc7cd468e3160ad51d9ff4ad9f4adfd295611b91bd084b39e06",
                     "ac4799cc77776350d1f96d8ec7d08a3834c904eaf575a5f5ca6a2ba1aa135828"),
    # recorded on 2026-12-07 from commit d18b2ba (two runs, the same digests)
    "GenuineIntel/AVX512": ("31f9e4689cfdb1180fc0a53b8ffcdebd5726b247c5f7adb2a6fbb0715d360977",
                            "820e9a5054eccd52c3f8c70fe94da352b7297cef6eed09c69094ecc2392b57cf"),
}

CONFIG = StudyConfig(snrs=("high",), nominal_densities=(0.38,), challenge_sets=("LD",), n_frames=6, seed=11,
                     n_boot=40, models_dir="identity-models", calibration_frames=40)


def _digest(*arrays: np.ndarray) -> str:
    sha = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        sha.update(f"{array.dtype.str}{array.shape}".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()


def _emitters_digest(table) -> str:
    columns = [table.frame, table.x_nm, table.y_nm, table.z_nm, table.photons]
    return _digest(*columns, *([] if table.score is None else [table.score]))


@pytest.fixture()
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _localizer(seed: int, approach: str) -> Localizer:
    """A seeded, untrained tiny mixture-head network; its probability bias raised so that its bins clear the decoder's floor.
    Its config says it was trained on the centred PSF, so the study simulates its frames with it."""
    torch.manual_seed(seed)
    model = hesitant(LocNet(model_config("tiny", input_scale_photons=2000.0, head="mixture")))
    spec = head_spec("mixture", field=Field(), photon_scale=20000.0)
    # untrained: no checkpoint record, so the study's rows say "no training seed", as before
    return Localizer(model, spec, EMCCD(), threshold=0.0, device="cpu",
                     config=TrainConfig(sampler=approach, snr="high", psf=CENTRED))


def _localizers() -> dict:
    return {(approach, "high", None): _localizer(seed, approach) for seed, approach in enumerate(CONFIG.approaches)}


def _locs_digest(kept: dict) -> str:
    locs = "".join(_emitters_digest(kept[(row, "high")]) for row in ("truth", "csr", "helix"))
    return hashlib.sha256(locs.encode()).hexdigest()


def test_test_set_frames_are_unchanged(one_thread):
    for target, expected in FRAMES_SHA256.items():
        test = simulate_test_set("high", target, n_frames=CONFIG.n_frames, seed=CONFIG.seed,
                                 calibration_frames=CONFIG.calibration_frames, psf=CENTRED)
        assert _digest(test.frames) == expected, target
        assert test.frames.dtype == np.uint16


def test_localizations_and_rows_are_unchanged(one_thread):
    locs_sha256, rows_sha256 = recorded_for_this_cpu(NETWORK_SHA256)
    done = run(CONFIG, progress=False, localizers=_localizers(), keep_locs_at=0.38)
    assert _locs_digest(done.locs) == locs_sha256
    assert hashlib.sha256(done.results.to_csv(index=False).encode()).hexdigest() == rows_sha256
