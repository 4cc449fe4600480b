"""Text from files (names, tags) made safe to show on a terminal.

A file name or a tag may hold any character.  Written to a terminal as it is, ESC starts a control
sequence (clear the screen, set the window title, rewrite what was printed), a line break splits
one message into two, and the bidirectional overrides (U+202E …) show the rest of the line
backwards, so ``evil\\u202eflac.mp3`` reads as ``evilp3m.calf``.  :func:`printable` writes those
characters as visible escapes instead.  JSON output needs none of this: ``json.dumps`` escapes
control characters itself, and a program reading it must get the exact name.
"""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls, the bidirectional embeddings, overrides and isolates, and the line
#: and paragraph separators (U+2028/2029, a line break to some terminals and every text widget).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: str) -> str:
    """``text`` with every control, bidirectional-override and line-separator character written as a visible
    escape (``\\x1b``, ``\\n``, ``\\u202e``); everything else, including non-ASCII letters, unchanged."""
    return _UNSAFE.sub(_escape, str(text))
