"""Model-provided text made safe to print: the one sanitiser of every renderer and error line.

Names, producers, doc strings and config fields come from the model file, so they may hold
terminal control sequences (``ESC ] 52`` writes the clipboard, ``ESC ] 8`` makes a hyperlink,
``ESC [ 2J`` clears the screen, a bare ``CR`` overwrites the line) or bidirectional-text controls
that make a name read differently from what it is (``U+202E``). :func:`printable` writes every
such character as a visible escape (``\\x1b``, ``\\u202e``) so that the text shows what the
model holds and drives nothing. :func:`shorten` bounds a name for a terminal table, keeping its
informative tail. Both run in time linear in the text.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE_CHARS", "printable", "shorten"]

# C0 controls (with TAB, LF, CR), DEL, C1 controls (0x9b is a one-byte CSI), the bidi and
# invisible direction marks (LRM, RLM, ALM), the bidi embeddings, overrides and isolates, and
# the Unicode line and paragraph separators.
_OTHER = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE_CHARS = "\x00-\x1f" + _OTHER
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_UNSAFE_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER}]")


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CODES = [*range(0x20), *range(0x7F, 0xA0), 0x61C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
          *range(0x2066, 0x206A)]
_TABLE = {code: _escape(code) for code in _CODES}
_TABLE_BUT_LF = {code: text for code, text in _TABLE.items() if code != 0x0A}


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control and bidi character written as a visible escape (``\\x1b``,
    ``\\x9b``, ``\\u202e``); ``newlines`` keeps ``\\n`` (for whole documents, not cells).
    Text without such characters is returned as it is."""
    if newlines:
        return text if _UNSAFE_BUT_LF.search(text) is None else text.translate(_TABLE_BUT_LF)
    return text if _UNSAFE.search(text) is None else text.translate(_TABLE)


def shorten(text: str, limit: int, *, head: int | None = None) -> str:
    """``text`` if it has at most ``limit`` characters, else its first ``head`` characters (a
    quarter of ``limit`` by default), ``...`` and its last characters, ``limit`` in all: the tail
    of a node or module path (``.../block.7/conv/Conv``) says most about it."""
    if len(text) <= limit:
        return text
    limit = max(limit, 5)
    first = min(limit // 4 if head is None else head, limit - 4)
    return f"{text[:first]}...{text[len(text) - (limit - first - 3):]}"
