"""What each subtitle writer does to cue text so that no reader reads it as markup.

Text is kept: a character a reader would interpret is followed (or preceded) by
U+2060 WORD JOINER, which is invisible and has no width, and our own readers
drop it again. Per family:

* all: control characters become visible stand-ins
  (:func:`qalign.formats.safetext.visible`: ``␀``, ``␛``, U+FFFD...); a carriage
  return is a line break, a tab a space;
* SubRip: ``<`` before a tag-like word (``<i>``, ``</font``), ``{`` before a
  backslash (``{\\b1}``), the arrow ``-->`` and every ``HH:MM:SS,mmm`` time of a
  timing line (lenient readers need no arrow), and a line that is only a number
  (a cue number);
* WebVTT: ``&``, ``<`` and ``>`` as character references (this also breaks ``-->``);
* ASS: see :func:`qalign.formats.ass.escape` (braces, backslashes);
* LRC: ``[`` and ``<`` before a digit (a time tag) and ``[`` before a word and a
  colon (an ID tag such as ``[ar:``).
"""

from __future__ import annotations

import re

from qalign.formats.safetext import visible

JOINER = "\u2060"
_SRT_TAG = re.compile(r"<(?=/?[A-Za-z])|\{(?=\\)")
_SRT_NUMBER = re.compile(r"^(\s*\d+\s*)$", re.MULTILINE)
_SRT_TIME = re.compile(r"(\d+:)(?=\d{1,2}:\d{1,2}[,.]\d)")
_LINE_BREAKS = re.compile("[\n\u2028\u2029]")
_LRC_TAG = re.compile(r"[\[<](?=\s*\d)|\[(?=[^\]:\s]*:)")


def visible_controls(text: str) -> str:
    """Control characters as visible symbols; line ends as line feeds, tabs as spaces."""
    return visible(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def neutral_srt(text: str) -> str:
    """SubRip cue text no reader takes as tags, a timing line or a cue number."""
    text = _SRT_TAG.sub(lambda m: m.group(0) + JOINER, visible_controls(text))
    text = text.replace("-->", "--" + JOINER + ">")
    text = _SRT_TIME.sub(lambda m: m.group(1) + JOINER, text)
    return _SRT_NUMBER.sub(lambda m: JOINER + m.group(1), text)


def neutral_lrc(text: str) -> str:
    """LRC text in which no reader finds a time or ID tag, on one line (an LRC line is
    one lyric: line breaks inside a word or cue become spaces)."""
    one_line = _LINE_BREAKS.sub(" ", visible_controls(text))
    return _LRC_TAG.sub(lambda m: m.group(0) + JOINER, one_line)


def drop_joiners(text: str) -> str:
    """Text as written before neutralising (our readers call this)."""
    return text.replace(JOINER, "")
