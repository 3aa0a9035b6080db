"""Corpus mode: align whole corpora in one run, cut aligned audio into clips.

* :mod:`qalign.corpus.layouts` finds the items of a corpus (MFA's ``.lab``/``.txt``
  beside audio, TextGrid utterance tiers, JSONL/CSV manifests).
* :mod:`qalign.corpus.runner` skips finished items, buckets the rest by length and
  hands them to an executor (:mod:`qalign.corpus.executors`).
* :mod:`qalign.corpus.job` is what a worker needs: it loads the model once, aligns a
  bucket and writes each item's outputs atomically (:mod:`qalign.corpus.outputs`).
* :mod:`qalign.corpus.reports` writes ``failures.csv`` and ``alignment_report.csv``.
* :mod:`qalign.corpus.split` cuts clips at aligned word boundaries.

Importing this package imports neither torch nor transformers.
"""
