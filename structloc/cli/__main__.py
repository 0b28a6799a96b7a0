"""``python -m structloc.cli ...`` (and ``torchrun -m structloc.cli ...``) runs the command line."""

import sys

from . import main

sys.exit(main())
