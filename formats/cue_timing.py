"""When cues appear and disappear: the timing rules applied after cues are cut.

A cue starts with its first word and never ends before its last word's end,
except to keep ``min_gap`` (two frames) free before the next cue, which may
take the last frames of a word that runs into the next cue. Where the next cue
allows, a cue is held

* for at least ``min_duration`` seconds,
* long enough to be read at ``max_cps`` / ``max_wpm``, but never more than
  ``linger`` seconds past its speech,
* and up to ``min_gap`` before the next cue when the gap would be ``chain`` or
  shorter (Netflix: "gaps of 12 frames or fewer"; cues then follow each other
  without a flicker), unless the cue ends a stanza.

A cue never runs past the audio's end, and never for more than ``max_duration``
seconds unless its speech is longer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from qalign.formats.cue_options import CueOptions

C = TypeVar("C")


def hold(
    cues: Sequence[C],
    spans: Sequence[tuple[float, float]],
    sizes: Sequence[tuple[int, int]],
    opts: CueOptions,
    duration: float,
    rebuild: Callable[[C, float], C],
    stanza_ends: Sequence[bool] = (),
) -> list[C]:
    """Cue ends after the rules in the module docstring.

    Args:
        cues: the cues, in time order.
        spans: ``(start, speech_end)`` seconds of each cue.
        sizes: ``(characters, words)`` of each cue's text.
        opts: the rules.
        duration: the audio's length in seconds.
        rebuild: ``rebuild(cue, end)`` returns the cue with its new end.
        stanza_ends: per cue, whether it ends a stanza (never chained to the next).
    """
    out = []
    for k, (cue, (start, speech_end), (chars, words)) in enumerate(zip(cues, spans, sizes)):
        want = max(
            speech_end,
            start + opts.min_duration,
            min(start + opts.reading_time(chars, words), speech_end + opts.linger),
        )
        limit = min(duration, start + max(opts.max_duration, speech_end - start))
        end = max(speech_end, min(want, limit))
        if k + 1 < len(cues):
            nxt = spans[k + 1][0]
            stanza_end = k < len(stanza_ends) and stanza_ends[k]
            if nxt - end <= opts.chain + 1e-9 and not stanza_end:
                end = nxt - opts.min_gap
            end = min(end, nxt - opts.min_gap, limit)
            if end <= start:  # no room for the gap: end where the next cue starts
                end = max(start, min(speech_end, nxt))
        out.append(rebuild(cue, max(end, start)))
    return out
