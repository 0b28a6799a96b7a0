"""An untrained mixture-head network whose bins clear the decoder's probability floor."""

import torch

from structloc.model import LocNet


def hesitant(model: LocNet, logit: float = -2.0) -> LocNet:
    """Set the probability channel's bias of ``model``'s head to ``logit`` (in place) and return it.

    A fresh or barely trained network starts at p ~ 0.001 per bin (bias -7), below
    :data:`structloc.clusters.MIN_PROBABILITY`, so it decodes to nothing at any threshold; at -2
    (p ~ 0.12) its bins take part, and tests of the pipeline get plenty of localizations."""
    conv = model.head[0]
    shuffle = model.head[1].upscale_factor
    with torch.no_grad():
        conv.bias[: shuffle * shuffle].fill_(logit)
    return model
