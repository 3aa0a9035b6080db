"""ELAN EAF writer and reader (formats/eaf.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError

GOLDEN = Path(__file__).parent / "golden"
DATE = "2024-01-01T00:00:00+00:00"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "tg_sample.json")


def _tiers(text: str) -> dict[str, list[tuple[int, int, str]]]:
    """Tier id -> (start ms, end ms, value), checking the document's references on the way."""
    root = ET.fromstring(text)
    assert root.tag == "ANNOTATION_DOCUMENT"
    for attr in ("AUTHOR", "DATE", "FORMAT", "VERSION"):
        assert attr in root.attrib
    assert root.find("HEADER").get("TIME_UNITS") == "milliseconds"
    slots = [(s.get("TIME_SLOT_ID"), int(s.get("TIME_VALUE"))) for s in root.iter("TIME_SLOT")]
    assert [v for _, v in slots] == sorted(v for _, v in slots)
    times = dict(slots)
    assert len(times) == len(slots)
    types = {t.get("LINGUISTIC_TYPE_ID") for t in root.iter("LINGUISTIC_TYPE")}
    ids = [a.get("ANNOTATION_ID") for a in root.iter("ALIGNABLE_ANNOTATION")]
    assert len(ids) == len(set(ids))
    out = {}
    for tier in root.iter("TIER"):
        assert tier.get("LINGUISTIC_TYPE_REF") in types
        rows = []
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            start, end = times[ann.get("TIME_SLOT_REF1")], times[ann.get("TIME_SLOT_REF2")]
            assert start < end
            rows.append((start, end, ann.findtext("ANNOTATION_VALUE")))
        assert all(a[1] <= b[0] for a, b in zip(rows, rows[1:]))
        out[tier.get("TIER_ID")] = rows
    return out


def test_matches_golden(sample):
    assert formats.dumps(sample, "eaf", date=DATE) == (GOLDEN / "eaf_sample.eaf").read_text("utf-8")


def test_document_structure(sample):
    tiers = _tiers(formats.dumps(sample, "eaf"))
    assert list(tiers) == ["words", "segments", "phones"]
    assert tiers["words"][2] == (1120, 1121, "café!")  # zero length widened to 1 ms
    assert tiers["segments"][1] == (1760, 2560, '"Oui" dit-elle…')
    assert len(tiers["phones"]) == len(sample.phones)


def test_escaping_and_control_characters():
    a = Alignment(
        (Unit('<a & "b">', "ab", 0.1, 0.2), Unit("bell\x07", "bell", 0.2, 0.3)), duration=1.0
    )
    text = formats.dumps(a, "eaf")
    assert '&lt;a &amp; "b"&gt;' in text and "\x07" not in text
    assert [v for *_, v in _tiers(text)["words"]] == ['<a & "b">', "bell\u2407"]  # made visible


def test_media_option(tmp_path):
    a = Alignment((Unit("a", "a", 0.1, 0.2),), duration=1.0)
    root = ET.fromstring(formats.dumps(a, "eaf", media=str(tmp_path / "talk.wav")))
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media.get("MIME_TYPE") == "audio/x-wav"
    assert media.get("RELATIVE_MEDIA_URL") == "./talk.wav"
    assert media.get("MEDIA_URL").startswith("file:///") and media.get("MEDIA_URL").endswith(
        "/talk.wav"
    )


def test_cjk_and_segments_only():
    chars = Alignment((Unit("你", "你", 0.0, 0.2), Unit("好", "好", 0.2, 0.4)), duration=1.0)
    assert list(_tiers(formats.dumps(chars, "eaf"))) == ["chars"]
    cues = Alignment((), (Segment("Hello there.", 0.5, 1.5),), 2.0)
    assert _tiers(formats.dumps(cues, "eaf")) == {"segments": [(500, 1500, "Hello there.")]}


def test_round_trip(sample):
    back = formats.loads(formats.dumps(sample, "eaf"), "eaf")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    for got, want in zip(back.units, sample.units):
        assert got.start == pytest.approx(want.start, abs=0.0005)
        assert got.end == pytest.approx(want.end, abs=0.0011)
    assert [(s.text, s.unit_start, s.unit_end) for s in back.segments] == [
        (s.text, s.unit_start, s.unit_end) for s in sample.segments
    ]
    assert [p.label for p in back.phones] == [p.label for p in sample.phones]


def test_reader_tier_option_and_unknown_tier(sample):
    text = formats.dumps(sample, "eaf")
    assert [u.text for u in formats.loads(text, "eaf", tier="phones").units] == [
        "h",
        "ə",
        "l",
        "oʊ",
    ]
    with pytest.raises(ValueError, match="'words', 'segments', 'phones'"):
        formats.loads(text, "eaf", tier="nope")


def test_fixtures_read(fixtures_dir):
    sonnet = formats.load(fixtures_dir / "formats" / "eaf" / "aeneas" / "sonnet001.eaf")
    assert (
        len(sonnet.units) == 15 and sonnet.units[0].start == 0.0 and sonnet.units[-1].end == 53.24
    )
    sample = formats.load(fixtures_dir / "formats" / "eaf" / "pympi" / "sample_3.0.eaf")
    assert sample.units and all(u.end >= u.start for u in sample.units)


@pytest.mark.parametrize("content", ["", "<not-eaf/>", "<ANNOTATION_DOCUMENT><unclosed>"])
def test_bad_files_raise_read_error(tmp_path, content):
    path = tmp_path / "bad.eaf"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError, match="bad.eaf"):
        formats.load(path)
