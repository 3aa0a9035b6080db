"""Chunk results put back together: transcript text spacing, and times kept inside each chunk."""

from __future__ import annotations

from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.asr.chunk_merge import AlignedChunk, dominant_language, join_texts, merge_chunks


def test_join_texts_spacing() -> None:
    assert join_texts(["Hello there.", "", "Next one."]) == ("Hello there. Next one.", [0, 12, 13])
    assert join_texts(["你好。", "世界"]) == ("你好。世界", [0, 3])
    assert join_texts(["東京", "Tokyo"])[0] == "東京 Tokyo"


def test_merge_clamps_times_into_each_chunk() -> None:
    # An aligner answer that overshoots its chunk must not cross the cut.
    over = Alignment((Unit("a", "a", 0.5, 2.0),), (), 2.0, "English", Source("x"))
    nxt = Alignment((Unit("b", "b", 0.0, 0.5),), (), 1.0, "English", Source("x"))
    merged = merge_chunks(
        [AlignedChunk(0.0, 1.5, "a", over), AlignedChunk(1.5, 2.5, "b", nxt)], 2.5
    )
    assert [(u.start, u.end) for u in merged.units] == [(0.5, 1.5), (1.5, 2.0)]


def test_merge_shifts_offsets_and_segment_ranges_to_the_joined_text() -> None:
    first = Alignment(
        (Unit("Hi", "hi", 0.1, 0.4, char_start=0, char_end=2),),
        (Segment("Hi", 0.1, 0.4, 0, 1),),
        1.0,
        "English",
        Source("x"),
    )
    second = Alignment(
        (Unit("yo", "yo", 0.2, 0.3, char_start=0, char_end=2),),
        (Segment("yo", 0.2, 0.3, 0, 1),),
        1.0,
        "English",
        Source("x"),
    )
    chunks = [
        AlignedChunk(0.0, 1.0, "Hi", first),
        AlignedChunk(1.0, 2.0, "", None),
        AlignedChunk(2.0, 3.0, "yo", second),
    ]
    merged = merge_chunks(chunks, 3.0)
    assert [(u.char_start, u.char_end) for u in merged.units] == [(0, 2), (3, 5)]
    assert [(u.start, u.end) for u in merged.units] == [(0.1, 0.4), (2.2, 2.3)]
    assert [(s.unit_start, s.unit_end) for s in merged.segments] == [(0, 1), (1, 2)]
    assert merged.language == "English"


def test_dominant_language_weighs_by_units_and_breaks_ties_by_order() -> None:
    assert dominant_language([("English", 2), ("German", 5)]) == "German"
    assert dominant_language([("German", 3), ("English", 3)]) == "German"
    assert dominant_language([(None, 9), ("French", 0)]) == "French"
    assert dominant_language([(None, 4)]) is None
