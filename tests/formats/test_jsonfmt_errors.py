"""Hostile JSON gives ReadError naming the file, never a traceback."""

import pytest

from qalign import formats
from qalign.errors import ReadError


@pytest.mark.parametrize(
    "payload",
    [
        '{"words": [{"text": "a", "start": 0, "end": 1e400}], "duration": 2}',
        '{"words": [{"text": "a", "start": 0, "end": Infinity}]}',
        "[" * 100000 + "]" * 100000,
        "{}",
        '{"words": "nope"}',
    ],
)
def test_bad_json_is_a_read_error(tmp_path, payload):
    path = tmp_path / "bad.json"
    path.write_text(payload)
    with pytest.raises(ReadError) as info:
        formats.load(path)
    assert str(path) in str(info.value)
