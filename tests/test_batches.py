"""Training batches: the fixed validation set is a seeded batch that no training step draws."""

import torch

from structloc import Field
from structloc.batches import VALIDATION_RANK, simulate_batch, validation_batch
from structloc.train_config import TrainConfig


def test_validation_batch_is_the_seeded_batch_of_its_own_rank():
    config = TrainConfig(sampler="helix", preset="tiny", seed=4, n_val_frames=3, field=Field(32, 32))
    frames, targets, truth = validation_batch(config)
    again, _, same = simulate_batch(config, 3, [4, VALIDATION_RANK, 0])
    assert frames.shape == (3, 32, 32) and torch.equal(frames, again)
    assert (truth.x_nm == same.x_nm).all()
    assert not torch.equal(frames, simulate_batch(config, 3, [4, 0, 0])[0])  # not the first training batch
