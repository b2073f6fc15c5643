"""``python -m seeisp.cli`` (and ``torchrun -m seeisp.cli train ...``) run the ``seeisp`` command."""

import sys

from . import main

sys.exit(main())
