"""Provenance records: the commit of the running code and the record of a training run."""

import re

from structloc import Field
from structloc.provenance import git_commit, training_provenance
from structloc.train import TrainConfig, train


def test_git_commit_is_a_hash_or_unknown():
    commit = git_commit()
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}", commit)


def test_training_record_says_how_a_model_was_made():
    config = TrainConfig(sampler="helix", preset="tiny", batch_size=2, max_steps=2, minutes=None, steps_per_epoch=2,
                         warmup_steps=1, n_val_frames=2, field=Field(32, 32))
    result = train(config, device="cpu", progress=False)
    record = training_provenance(result, ["structloc", "train", "--sampler", "helix"])
    assert record["command"] == "structloc train --sampler helix" and record["steps"] == 2
    assert record["git_commit"] == git_commit() and record["config"] == config.to_dict()
    assert set(record["final_validation"]) >= {"jaccard", "rmse_vol_nm", "val_loss"}
