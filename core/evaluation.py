"""Boundary accuracy of one alignment against a reference alignment.

:func:`evaluate` matches the hypothesis' words to the reference's words and
measures how far apart the matched boundaries are:

* **Matching** is an edit-distance alignment of the two word sequences after
  normalisation, anchored on words unique to both sides and banded elsewhere
  (:func:`qalign.matching.match_sequences`: memory linear in the number of words) (lower case, curly apostrophes straight, punctuation
  dropped). Reference items that are not words, such as silence marks
  (``<eps>``, ``sil``, ``sp``, ``<sil>``, empty labels) and bracketed noise
  markers (``[noise]``, ``<VOCNOISE>``, ``{lg}``), are left out on both sides
  first. Only pairs whose normalised forms are equal count as matched; a word
  that one side has and the other lacks (a filler the reference left
  untranscribed) is simply unmatched.
* **Boundaries**: each matched pair contributes two boundaries, its start and
  its end. The *accumulated average shift* is the mean of
  ``|hypothesis - reference|`` over all of them, in milliseconds; the
  tolerance figures are the share of boundaries within 20, 50 and 100 ms. Start
  and end errors are also reported apart (mean and median of ``|delta|``), with
  the unmatched words of each side.
* **Phones** are compared when both alignments have them, only inside matched
  words (a phone belongs to the word its midpoint falls in). When both use
  ARPAbet (stress digits are ignored: ``IH0`` = ``IH``), phones are paired by
  label with the same edit-distance matching; otherwise (say ARPAbet against
  MFA's IPA phones) they are paired by position inside words that have the
  same number of phones, and :attr:`Evaluation.notes` says so.

Times are float seconds in, milliseconds in the report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qalign.alignment import Alignment, Phone, Unit
from qalign.matching import match_sequences

__all__ = [
    "BoundaryStats",
    "Evaluation",
    "boundary_stats",
    "evaluate",
    "format_report",
    "is_word",
    "match_sequences",
    "normalize_word",
    "pool",
    "stats_dict",
]

NON_WORDS = frozenset(
    {"", "<eps>", "sil", "sp", "spn", "<sil>", "[sil]", "#sil#", "<s>", "</s>", "<unk>"}
)
"""Reference labels (lower case) that are silence or padding, not words."""

_MARKER = re.compile(r"^(\[.*\]|<.*>|\{.*\})$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

ARPABET = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
    "UH UW V W Y Z ZH AX AXR IX UX DX EL EM EN NX Q WH".split()
)
"""ARPAbet phone symbols (without stress digits), including TIMIT's extra ones."""


def normalize_word(text: str) -> str:
    """A word's form for matching: lower case, letters, digits and inner apostrophes only."""
    lowered = text.translate(_APOSTROPHES).lower()
    return "".join(ch for ch in lowered if ch.isalnum() or ch == "'").strip("'")


def is_word(label: str) -> bool:
    """Whether a word-tier label is a word (not silence, padding or a bracketed marker)."""
    stripped = label.strip()
    return (
        stripped.lower() not in NON_WORDS
        and not _MARKER.match(stripped)
        and bool(normalize_word(stripped))
    )


def arpabet_label(label: str) -> str | None:
    """``label`` as a bare ARPAbet symbol (``"ih0"`` → ``"IH"``), or ``None`` when it is not one."""
    bare = label.strip().upper().rstrip("012")
    return bare if bare in ARPABET else None


@dataclass(frozen=True, slots=True)
class BoundaryStats:
    """Boundary agreement of one tier.

    Attributes:
        tier: ``"words"`` or ``"phones"``.
        hyp_items: items of the hypothesis considered (words or phones).
        ref_items: items of the reference considered.
        matched: matched pairs; each gives two boundaries.
        mean_shift_ms: mean absolute boundary difference, milliseconds (``nan`` when none matched).
        median_shift_ms: median absolute boundary difference, milliseconds.
        within_20ms: share (0..1) of boundaries no more than 20 ms apart.
        within_50ms: share (0..1) of boundaries no more than 50 ms apart.
        mean_start_shift_ms: mean absolute difference of start boundaries only.
        median_start_shift_ms: median absolute difference of start boundaries.
        mean_end_shift_ms: mean absolute difference of end boundaries.
        median_end_shift_ms: median absolute difference of end boundaries.
        within_100ms: share (0..1) of boundaries no more than 100 ms apart.
    """

    tier: str
    hyp_items: int
    ref_items: int
    matched: int
    mean_shift_ms: float
    median_shift_ms: float
    within_20ms: float
    within_50ms: float
    mean_start_shift_ms: float
    median_start_shift_ms: float = float("nan")
    mean_end_shift_ms: float = float("nan")
    median_end_shift_ms: float = float("nan")
    within_100ms: float = float("nan")

    @property
    def boundaries(self) -> int:
        """Boundaries measured (two per matched pair)."""
        return 2 * self.matched

    @property
    def hyp_unmatched(self) -> int:
        """Hypothesis items with no reference counterpart."""
        return self.hyp_items - self.matched

    @property
    def ref_unmatched(self) -> int:
        """Reference items with no hypothesis counterpart."""
        return self.ref_items - self.matched


Pair = tuple[float, float, float, float]
"""A matched item: ``(hyp_start, hyp_end, ref_start, ref_end)`` in seconds."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Word (and phone) boundary agreement, with notes on what could not be compared.

    ``word_pairs`` and ``phone_pairs`` keep the matched items so that several
    files can be pooled (:func:`pool`).
    """

    words: BoundaryStats
    phones: BoundaryStats | None = None
    notes: tuple[str, ...] = ()
    word_pairs: tuple[Pair, ...] = ()
    phone_pairs: tuple[Pair, ...] = ()


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def boundary_stats(
    tier: str, hyp_items: int, ref_items: int, pairs: Sequence[Pair]
) -> BoundaryStats:
    """Statistics from matched ``(hyp_start, hyp_end, ref_start, ref_end)`` tuples (seconds)."""
    starts = [abs(hs - rs) * 1000.0 for hs, _, rs, _ in pairs]
    ends = [abs(he - re_) * 1000.0 for _, he, _, re_ in pairs]
    shifts = starts + ends
    if not shifts:
        nan = float("nan")
        return BoundaryStats(
            tier, hyp_items, ref_items, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan
        )

    # A hair of slack so that 20 ms written as 0.02 s in a file still counts as within 20 ms.
    def within(limit: float) -> float:
        return sum(s <= limit + 1e-6 for s in shifts) / len(shifts)

    return BoundaryStats(
        tier=tier,
        hyp_items=hyp_items,
        ref_items=ref_items,
        matched=len(pairs),
        mean_shift_ms=sum(shifts) / len(shifts),
        median_shift_ms=_median(shifts),
        within_20ms=within(20.0),
        within_50ms=within(50.0),
        mean_start_shift_ms=sum(starts) / len(starts),
        median_start_shift_ms=_median(starts),
        mean_end_shift_ms=sum(ends) / len(ends),
        median_end_shift_ms=_median(ends),
        within_100ms=within(100.0),
    )


STAT_FIELDS = (
    "hyp_items",
    "ref_items",
    "matched",
    "hyp_unmatched",
    "ref_unmatched",
    "mean_shift_ms",
    "median_shift_ms",
    "mean_start_shift_ms",
    "median_start_shift_ms",
    "mean_end_shift_ms",
    "median_end_shift_ms",
    "within_20ms",
    "within_50ms",
    "within_100ms",
)
"""The numbers of a :class:`BoundaryStats`, in the order JSON and CSV outputs list them."""


def stats_dict(stats: BoundaryStats) -> dict[str, float | int | None]:
    """``stats`` as plain numbers (``None`` where nothing matched, since JSON has no NaN)."""
    out: dict[str, float | int | None] = {}
    for name in STAT_FIELDS:
        value = getattr(stats, name)
        out[name] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def _words(alignment: Alignment) -> list[Unit]:
    return [u for u in alignment.units if is_word(u.text)]


def _phones_of(units: Sequence[Unit], phones: Sequence[Phone]) -> list[list[Phone]]:
    """The phones whose midpoint lies in each unit (silence phones left out)."""
    out: list[list[Phone]] = [[] for _ in units]
    k = 0
    ordered = sorted(phones, key=lambda p: p.start)
    for i, unit in enumerate(units):
        while k < len(ordered) and (ordered[k].start + ordered[k].end) / 2 < unit.start:
            k += 1
        j = k
        while j < len(ordered) and (ordered[j].start + ordered[j].end) / 2 <= unit.end:
            if ordered[j].label.strip().lower() not in NON_WORDS:
                out[i].append(ordered[j])
            j += 1
        k = j
    return out


def evaluate(hyp: Alignment, ref: Alignment, *, phones: bool = True) -> Evaluation:
    """Compare ``hyp`` with ``ref``; see the module docstring for the method.

    Args:
        hyp: the alignment to judge.
        ref: the reference (gold) alignment.
        phones: also compare phones when both have them.
    """
    hyp_words, ref_words = _words(hyp), _words(ref)
    pairs = match_sequences(
        [normalize_word(u.text) for u in hyp_words], [normalize_word(u.text) for u in ref_words]
    )
    word_pairs = [
        (hyp_words[i].start, hyp_words[i].end, ref_words[j].start, ref_words[j].end)
        for i, j in pairs
    ]
    words = boundary_stats("words", len(hyp_words), len(ref_words), word_pairs)
    notes: list[str] = []
    if len(pairs) < len(ref_words):
        notes.append(f"{len(ref_words) - len(pairs)} of {len(ref_words)} reference words unmatched")
    phone_stats: BoundaryStats | None = None
    phone_pairs: list[Pair] = []
    if phones and hyp.phones and ref.phones:
        phone_stats, phone_pairs, note = _phone_stats(
            hyp_words, ref_words, pairs, hyp.phones, ref.phones
        )
        if note:
            notes.append(note)
    elif phones and (hyp.phones or ref.phones):
        notes.append("phones not compared: only one side has phones")
    return Evaluation(words, phone_stats, tuple(notes), tuple(word_pairs), tuple(phone_pairs))


def pool(evaluations: Sequence[Evaluation]) -> Evaluation:
    """One :class:`Evaluation` over several files: all their matched boundaries together."""
    word_pairs = [p for e in evaluations for p in e.word_pairs]
    words = boundary_stats(
        "words",
        sum(e.words.hyp_items for e in evaluations),
        sum(e.words.ref_items for e in evaluations),
        word_pairs,
    )
    with_phones = [e for e in evaluations if e.phones is not None]
    phones = None
    phone_pairs = [p for e in with_phones for p in e.phone_pairs]
    if with_phones:
        phones = boundary_stats(
            "phones",
            sum(e.phones.hyp_items for e in with_phones if e.phones),
            sum(e.phones.ref_items for e in with_phones if e.phones),
            phone_pairs,
        )
    notes = tuple(dict.fromkeys(n for e in evaluations for n in e.notes))
    return Evaluation(words, phones, notes, tuple(word_pairs), tuple(phone_pairs))


def _phone_stats(
    hyp_words: list[Unit],
    ref_words: list[Unit],
    pairs: list[tuple[int, int]],
    hyp_phones: Sequence[Phone],
    ref_phones: Sequence[Phone],
) -> tuple[BoundaryStats, list[Pair], str | None]:
    hyp_in = _phones_of(hyp_words, hyp_phones)
    ref_in = _phones_of(ref_words, ref_phones)
    all_ref = [p for i, _ in enumerate(ref_words) for p in ref_in[i]]
    by_label = all(arpabet_label(p.label) for p in all_ref) and all(
        arpabet_label(p.label) for ps in hyp_in for p in ps
    )
    label: Callable[[Phone], str] = lambda p: arpabet_label(p.label) or p.label  # noqa: E731
    matched: list[Pair] = []
    hyp_count = ref_count = skipped = 0
    for i, j in pairs:
        hp, rp = hyp_in[i], ref_in[j]
        hyp_count += len(hp)
        ref_count += len(rp)
        if by_label:
            for a, b in match_sequences([label(p) for p in hp], [label(p) for p in rp]):
                matched.append((hp[a].start, hp[a].end, rp[b].start, rp[b].end))
        elif len(hp) == len(rp):
            matched.extend((a.start, a.end, b.start, b.end) for a, b in zip(hp, rp))
        else:
            skipped += 1
    note = None
    if not by_label:
        note = (
            "phone labels are not both ARPAbet: phones paired by position in words with equal "
            f"phone counts ({skipped} of {len(pairs)} matched words skipped)"
        )
    return boundary_stats("phones", hyp_count, ref_count, matched), matched, note


def _ms(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.1f}"


def _pct(value: float) -> str:
    return "nan" if math.isnan(value) else f"{100 * value:.1f}%"


def format_report(evaluation: Evaluation, name: str | None = None) -> str:
    """A plain-text table of an :class:`Evaluation` (what ``qalign evaluate`` prints).

    With ``name``, each row starts with the tier then ``name`` (the file, or ``(all)``).
    """
    return "\n".join(
        [report_header(name is not None), *report_rows(evaluation, name)]
        + [f"note: {note}" for note in evaluation.notes]
    )


def report_header(with_name: bool = False) -> str:
    """The header line of :func:`report_rows` tables."""
    name = f" {'file':<24}" if with_name else ""
    return (
        f"tier   {name} matched/ref  unmatched hyp/ref  mean shift  median"
        "  start mean/median  end mean/median  <=20ms  <=50ms  <=100ms"
    )


def report_rows(evaluation: Evaluation, name: str | None = None) -> list[str]:
    """One table row per tier of ``evaluation``."""
    rows = []
    for stats in (evaluation.words, evaluation.phones):
        if stats is None:
            continue
        label = f" {name:<24}" if name is not None else ""
        rows.append(
            f"{stats.tier:<7}{label} {stats.matched:>5}/{stats.ref_items:<5}"
            f" {stats.hyp_unmatched:>9}/{stats.ref_unmatched:<7}"
            f" {_ms(stats.mean_shift_ms):>8} ms {_ms(stats.median_shift_ms):>7}"
            f" {_ms(stats.mean_start_shift_ms):>9}/{_ms(stats.median_start_shift_ms):<8}"
            f" {_ms(stats.mean_end_shift_ms):>8}/{_ms(stats.median_end_shift_ms):<7}"
            f" {_pct(stats.within_20ms):>7} {_pct(stats.within_50ms):>7} {_pct(stats.within_100ms):>8}"
        )
    return rows
