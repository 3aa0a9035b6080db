import pickle

import pytest

from qalign.alignment import Alignment, Phone, Segment, Source, Stretch, Unit
from qalign.errors import AudioTooLongError, LanguageError, QalignError, ReadError, ValidationError


def _sample() -> Alignment:
    units = (
        Unit("Hello,", "hello", 0.08, 0.4, 0.91, 0, 6),
        Unit("world!", "world", 0.48, 0.96, None, 7, 13),
    )
    return Alignment(
        units,
        (Segment("Hello, world!", 0.08, 0.96, 0, 2),),
        duration=1.2,
        language="English",
        source=Source("qwen3", "Qwen/Qwen3-ForcedAligner-0.6B", "monotonic"),
        phones=(Phone("HH", 0.08, 0.12), Phone("AH", 0.12, 0.2, 0.5)),
    )


def test_json_dict_round_trip_is_exact():
    a = _sample()
    assert Alignment.from_dict(a.to_dict()) == a
    d = a.to_dict()
    assert d["version"] == 2
    assert [w["status"] for w in d["words"]] == ["aligned", "aligned"]
    assert [w["text"] for w in d["words"]] == ["Hello,", "world!"]
    assert d["words"][0]["norm"] == "hello"
    assert d["segments"][0]["words"] == [0, 2]


def test_status_and_stretches_round_trip():
    units = (
        Unit("a", "a", 0.0, 0.2),
        Unit("b", "b", 0.2, 0.4, 0.1, status="uncertain"),
        Unit("c", "c", 0.4, 0.9, status="unaligned"),
    )
    a = Alignment(units, duration=1.0, stretches=(Stretch(0.4, 0.9, 2, 3, "text not heard"),))
    d = a.to_dict()
    assert [w["status"] for w in d["words"]] == ["aligned", "uncertain", "unaligned"]
    assert d["stretches"] == [
        {
            "start": 0.4,
            "end": 0.9,
            "words": [2, 3],
            "reason": "text not heard",
            "status": "unaligned",
        }
    ]
    assert Alignment.from_dict(d) == a
    assert a.count("unaligned") == 1


def test_version_1_json_still_reads():
    d = _sample().to_dict()
    d["version"] = 1
    for w in d["words"]:
        del w["status"]
    del d["stretches"]
    back = Alignment.from_dict(d)
    assert [u.status for u in back.units] == ["aligned", "aligned"]
    assert back.stretches == ()
    d["version"] = 3
    with pytest.raises(ValidationError, match="version 3"):
        Alignment.from_dict(d)


def test_bad_status_and_stretch_rejected():
    with pytest.raises(ValidationError, match="status 'maybe'"):
        Unit("x", "x", 0, 0.1, status="maybe")
    with pytest.raises(ValidationError, match="exceeds the 1 units"):
        Alignment((Unit("a", "a", 0, 0.1),), duration=1, stretches=(Stretch(0, 0.1, 0, 2, "x"),))


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(start=-0.1, end=0.2), "negative"),
        (dict(start=0.5, end=0.2), "before start"),
        (dict(start=0.1, end=0.2, score=1.5), r"outside \[0, 1\]"),
    ],
)
def test_unit_validation_names_values(kwargs, needle):
    with pytest.raises(ValidationError, match=needle):
        Unit("x", "x", **kwargs)


def test_units_must_be_ordered_and_within_duration():
    u1 = Unit("a", "a", 0.5, 0.7)
    u2 = Unit("b", "b", 0.6, 0.8)
    with pytest.raises(ValidationError, match="before the end 0.7"):
        Alignment((u1, u2), duration=1.0)
    with pytest.raises(ValidationError, match="past the audio duration 0.75"):
        Alignment((u1, Unit("b", "b", 0.7, 0.8)), duration=0.75)


def test_segment_unit_range_checked():
    with pytest.raises(ValidationError, match="exceeds the 1 units"):
        Alignment((Unit("a", "a", 0, 0.1),), (Segment("a b", 0, 0.1, 0, 2),), duration=1)


def test_from_dict_rejects_garbage():
    with pytest.raises(ValidationError):
        Alignment.from_dict({"words": [{"start": 0}]})
    with pytest.raises(ValidationError, match="version"):
        Alignment.from_dict({"version": 99, "words": []})


def test_alignment_is_hashable_and_frozen():
    a = _sample()
    hash(a)
    with pytest.raises(AttributeError):
        a.duration = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "err",
    [
        ReadError("x.srt", "bad"),
        AudioTooLongError("a.wav", 500.0, 300.0),
        LanguageError("Klingon", ("English",)),
        QalignError("plain"),
    ],
)
def test_errors_pickle_and_keep_attributes(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert back.args == err.args


def test_too_long_message_has_numbers():
    err = AudioTooLongError("a.wav", 500.0, 399.92)
    assert "a.wav" in str(err) and "500.00" in str(err) and "399.92" in str(err)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_non_finite_times_rejected(bad):
    with pytest.raises(ValidationError, match="finite"):
        Unit("x", "x", 0.0, bad)
    with pytest.raises(ValidationError, match="finite"):
        Alignment((), duration=bad)


def test_from_dict_needs_words_list():
    with pytest.raises(ValidationError, match="no 'words' list"):
        Alignment.from_dict({})
    with pytest.raises(ValidationError, match="no 'words' list"):
        Alignment.from_dict({"text": "a transcript", "language": "English"})


def test_phone_score_range():
    with pytest.raises(ValidationError, match="outside"):
        Phone("AH", 0, 0.1, 2.0)
