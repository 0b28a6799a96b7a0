"""The one device helper: the best available device, and requested devices checked."""

import pytest
import torch

from structloc.device import best_device, select_device


def test_best_device_and_requested_devices():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(None) == select_device("auto") == torch.device(best_device())
    assert best_device() == ("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available()
                             else "cpu")
    with pytest.raises(ValueError, match="not a torch device"):
        select_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda:0")
    else:
        with pytest.raises(ValueError, match="CUDA device"):
            select_device(f"cuda:{torch.cuda.device_count()}")


def test_the_book_and_the_trainer_use_it():
    from structloc import localize, notebook, train

    assert notebook.best_device is best_device and train.select_device is select_device
    assert localize.select_device is select_device
