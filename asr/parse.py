"""Reading Qwen3-ASR's answer: ``language X<asr_text>transcript``.

The model answers with a header, the ``<asr_text>`` tag, then the text:

* ``language English<asr_text>Hello world.`` is English speech;
* ``language None<asr_text>`` means it heard no speech: an empty result, not an error;
* with a forced language the prompt already ends in ``language X<asr_text>``, so
  the whole answer is text.

Before parsing, runaway repetitions (a decoder stuck in a loop) are collapsed
the way the reference implementation does (:func:`collapse_repetitions`).
:func:`parse_answer` reproduces the reference ``parse_asr_output`` exactly,
including its corner cases (an untagged answer is all text, only the first tag
splits, a header line not starting with ``language`` is skipped).
"""

from __future__ import annotations

from qalign.asr.languages import normalize_language_name

#: The tag between the header and the transcript.
ASR_TEXT_TAG = "<asr_text>"
#: Runs longer than this many repeats are collapsed to one copy.
REPEAT_THRESHOLD = 20
#: Longest repeated pattern, in characters, that :func:`collapse_repetitions` looks for.
MAX_PATTERN_CHARS = 20

_LANGUAGE_PREFIX = "language "


def _collapse_char_runs(text: str, threshold: int) -> str:
    """Replace every run of more than ``threshold`` identical characters by one character."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and text[j] == text[i]:
            j += 1
        out.append(text[i] if j - i > threshold else text[i:j])
        i = j
    return "".join(out)


def _repeats_at(text: str, pos: int, size: int, times: int) -> bool:
    """Whether ``text[pos:pos + size]`` occurs ``times`` times back to back from ``pos``."""
    pattern = text[pos : pos + size]
    return all(text[pos + k * size : pos + (k + 1) * size] == pattern for k in range(1, times))


def _collapse_pattern_runs(text: str, threshold: int, max_size: int) -> str:
    """Collapse back-to-back repeats of a pattern of 1..``max_size`` characters.

    Scanning left to right, the first position where some pattern (shortest
    first) repeats ``threshold`` times starts a run; the run is extended as far
    as the pattern keeps repeating and replaced by one copy, and the scan goes
    on after it. A position is only tried while at least ``2 * threshold``
    characters remain from the start of the current stretch onwards, as in the
    reference.
    """
    out: list[str] = []
    start = 0  # beginning of the stretch not yet emitted
    n = len(text)
    min_rest = threshold * 2
    while n - start >= min_rest:
        run = _first_run(text, start, threshold, max_size, last_pos=n - min_rest)
        if run is None:
            break
        pos, size, end = run
        out.append(text[start:pos])
        out.append(text[pos : pos + size])
        start = end
    out.append(text[start:])
    return "".join(out)


def _first_run(
    text: str, start: int, threshold: int, max_size: int, last_pos: int
) -> tuple[int, int, int] | None:
    """The first ``(position, pattern size, run end)`` at or after ``start``, or ``None``."""
    n = len(text)
    for pos in range(start, last_pos + 1):
        for size in range(1, max_size + 1):
            if pos + size * threshold > n:
                break
            if _repeats_at(text, pos, size, threshold):
                end = pos + size * threshold
                pattern = text[pos : pos + size]
                while end + size <= n and text[end : end + size] == pattern:
                    end += size
                return pos, size, end
    return None


def collapse_repetitions(text: str, threshold: int = REPEAT_THRESHOLD) -> str:
    """Collapse runaway repetitions, as the reference does before parsing.

    First every run of more than ``threshold`` identical characters becomes one
    character (``"aaaa…a"`` -> ``"a"``), then every pattern of up to
    :data:`MAX_PATTERN_CHARS` characters repeated at least ``threshold`` times in
    a row becomes one copy (``"haha…ha!"`` -> ``"ha!"``).
    """
    return _collapse_pattern_runs(
        _collapse_char_runs(text, threshold), threshold, MAX_PATTERN_CHARS
    )


def parse_answer(raw: str | None, forced_language: str | None = None) -> tuple[str, str]:
    """Split a decoded answer into ``(language, text)``.

    Args:
        raw: the generated text, decoded without special tokens (``<asr_text>`` is
            not special, so it stays in).
        forced_language: the language the prompt forced, if any; the answer is
            then all text and this is the language.

    Returns:
        ``(language, text)``; the language is ``""`` when the model named none or
        said ``None`` (no speech), and the text is ``""`` for silence.
    """
    if raw is None:
        return "", ""
    s = str(raw).strip()
    if not s:
        return "", ""
    s = collapse_repetitions(s)
    if forced_language:
        return forced_language, s
    if ASR_TEXT_TAG not in s:
        return "", s.strip()
    header, text = s.split(ASR_TEXT_TAG, 1)
    if "language none" in header.lower():
        return "", text.strip()
    language = ""
    for line in header.splitlines():
        line = line.strip()
        if line.lower().startswith(_LANGUAGE_PREFIX):
            name = line[len(_LANGUAGE_PREFIX) :].strip()
            if name:
                language = normalize_language_name(name)
            break
    return language, text.strip()
