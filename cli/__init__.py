"""The ``qalign`` command line. Heavy imports happen inside the commands."""
