"""Text from jobs and records made safe to print: control characters are shown, never obeyed.

A record, a tag, a config, a failure reason or a metric name can hold anything, including escape
sequences that clear the screen, rewrite earlier lines or retitle the terminal (``\\x1b[2J``). What
``show`` and ``list`` print from them goes through ``printable``, one line at a time.
"""

from __future__ import annotations

import unicodedata


def printable(line: str) -> str:
    """``line`` with each character of Unicode category C (controls, format characters such as bidi
    overrides, surrogates, private-use, unassigned) written as an escape such as ``\\x1b`` or ``\\u202e``;
    a newline too, so one field stays on one line."""
    if line.isprintable():
        return line
    return "".join(_escaped(char) if unicodedata.category(char)[0] == "C" else char for char in line)


def text_lines(text: str) -> list[str]:
    """A multi-line block (a YAML config, a failure reason) as its lines, split at newlines only."""
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and not lines[-1] else lines


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
