"""Evaluation of localizations against ground truth, as in the SMLM Challenge 2016 (see :mod:`.metrics`)."""

from .metrics import *  # noqa: F401,F403  (split by concept in the next commit)
from .metrics import __all__  # noqa: F401
