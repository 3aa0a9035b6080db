import sys

from qalign.cli.main import main

sys.exit(main())
