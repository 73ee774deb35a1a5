"""Text from outside (a stand-in's name and phone, who did something, a note): what may be kept, how it is shown.

A stand-in's name with a newline and "确认 (我来处理): http://…" once put a fake ack line above the real
one in the general manager's page; ANSI escapes cleared the screen in `warroom duty`; NUL and
right-to-left overrides passed. So names, phones and notes are one line of printable text within a
length limit (`problem` says why not, naming the character by its code point, never echoing it),
and whatever reaches a terminal goes through `on_terminal`, which shows control characters as
escapes instead of obeying them. Imports nothing of the project.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode categories that are not text one can see: controls, format characters (bidi overrides,
# zero-width joiners), line and paragraph separators, surrogates, private use, unassigned.
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL", "\x1b": "an escape (ESC)",
          "\u202e": "a right-to-left override", "\u202d": "a left-to-right override",
          "\u2066": "a direction isolate", "\u2067": "a direction isolate", "\u2068": "a direction isolate",
          "\u200b": "a zero-width space", "\ufeff": "a byte-order mark"}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./#*,-]*(?:\s*(?:ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)

NAME_MAX = 64
PHONE_MAX = 32
NOTE_MAX = 500
TEXT_MAX = 4000


def hidden(char: str) -> bool:
    """True for a character that is not visible text (control, format, separator, unassigned)."""
    return unicodedata.category(char) in _HIDDEN


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    return f"{_NAMES[char]} ({code})" if char in _NAMES else f"an invisible or control character ({code})"


def problem(text: str, limit: int, *, lines: bool = False, empty: bool = False) -> str | None:
    """Why `text` cannot be kept as one line of printable text of at most `limit` characters (None when it can).

    With `lines`, line breaks are allowed (a decision's text), every other invisible character is not;
    with `empty`, '' (nothing said, e.g. an acknowledgement without a note) is fine.
    """
    if len(text) > limit:
        return f"is {len(text)} characters long; at most {limit}"
    for char in text:
        if lines and char == "\n":
            continue
        if hidden(char):
            return f"contains {_describe(char)}; write one line of plain text"
    if not text.strip() and not (empty and text == ""):
        return "is empty"
    return None


def name_problem(text: str) -> str | None:
    """Why `text` cannot be a person's name in a page (None when it can)."""
    why = problem(text, NAME_MAX)
    if why is None and "://" in text:
        why = "contains a link; a name is only a name"
    return why


def phone_problem(text: str) -> str | None:
    """Why `text` cannot be a phone number in a page ('' is no phone, which is fine)."""
    if text == "":
        return None
    why = problem(text, PHONE_MAX)
    if why is None and not _PHONE.match(text.strip()):
        why = "is not a phone number (digits, spaces, + - ( ) . / # * , and an extension)"
    return why


def on_terminal(text: str) -> str:
    """`text` safe to print: every control or invisible character shown as an escape (\\x1b, \\n, \\u202e)."""
    if not any(hidden(c) for c in text):
        return text
    out = []
    for char in text:
        if not hidden(char):
            out.append(char)
        elif ord(char) < 0x100:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}"))
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)
