"""``python -m qalign ...``: the command line, as the ``qalign`` script runs it."""

from qalign.cli.main import entry

entry()
