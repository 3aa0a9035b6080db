"""``python -m qalign ...``: the command line, as the ``qalign`` script runs it."""

import sys

from qalign.cli.main import main

sys.exit(main())
