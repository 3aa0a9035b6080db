"""Unit statuses survive CTM, TSV, EAF and TextGrid, and never move aligned units."""

import pytest

from qalign import formats
from qalign.alignment import Alignment, Source, Stretch, Unit


def _alignment() -> Alignment:
    units = (
        Unit("One", "one", 0.10, 0.40, 0.9),
        Unit("two", "two", 0.45, 0.80, 0.4, status="uncertain"),
        Unit("never", "never", 0.80, 1.40, 0.0, status="unaligned"),
        Unit("said.", "said", 1.40, 2.00, 0.0, status="unaligned"),
        Unit("Three", "three", 2.00, 2.50, 0.95),
    )
    return Alignment(
        units,
        duration=3.0,
        source=Source("test"),
        stretches=(Stretch(0.8, 2.0, 2, 4, "text not heard"),),
    )


@pytest.mark.parametrize("ext", [".ctm", ".tsv", ".eaf", ".TextGrid"])
def test_status_round_trips(tmp_path, ext):
    path = tmp_path / f"a{ext}"
    formats.save(_alignment(), path)
    back = formats.load(path)
    assert [u.status for u in back.units] == [
        "aligned",
        "uncertain",
        "unaligned",
        "unaligned",
        "aligned",
    ]
    times = [t for u in back.units for t in (u.start, u.end)]
    assert times == pytest.approx([t for u in _alignment().units for t in (u.start, u.end)])


@pytest.mark.parametrize("ext", [".ctm", ".tsv", ".eaf", ".TextGrid"])
def test_all_aligned_adds_nothing(tmp_path, ext):
    plain = Alignment((Unit("One", "one", 0.1, 0.4, 0.9),), duration=1.0)
    path = tmp_path / f"a{ext}"
    formats.save(plain, path)
    content = path.read_text()
    assert "status" not in content and "unaligned" not in content


def test_textgrid_status_tier_sits_on_the_word_intervals(tmp_path):
    path = tmp_path / "a.TextGrid"
    formats.save(_alignment(), path)
    text = path.read_text()
    assert 'name = "status"' in text
    words = formats.load(path, tier="words")
    status = formats.load(path, tier="status")
    assert [u.text for u in status.units] == ["uncertain", "unaligned", "unaligned"]
    assert [(u.start, u.end) for u in status.units] == [(u.start, u.end) for u in words.units[1:4]]
