"""``python -m structloc ...`` runs the command-line interface (also under ``torchrun -m``)."""

import sys

from .cli import main

sys.exit(main())
