from qalign.cli.main import entry

entry()
