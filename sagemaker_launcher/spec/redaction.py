"""Blanking credential-like values in text the launch record keeps (the uncommitted git diff).

Everyone who can read the bucket can read a record, so a working-tree line such as
``aws_secret_access_key = ...`` must not reach it. The patterns err towards redacting: a harmless line
blanked by mistake costs a little detail, a kept secret costs a credential rotation.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

REDACTED = "[REDACTED]"
# Words that make a name credential-like, compared with the name's parts (``DB_PASSWORD``, ``apiKey``).
_SECRET_WORDS = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "token",
        "apikey",
        "credential",
        "credentials",
        "authorization",
        "cookie",
    }
)
# Pairs of adjacent parts that are credential-like together (``api_key``, ``PRIVATE-KEY``).
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key")})
# AWS access key IDs: long-term (AKIA) and temporary (ASIA).
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
# user:password@ in a URL.
_URL_PASSWORD = re.compile(r"(?P<keep>://[^/\s:@]+:)[^/\s@]+(?=@)")
_BEARER = re.compile(r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# ``name = value``, ``"name": value``, ``name := value``, ``name => value``, tried at every name start.
_ASSIGNMENT = re.compile(r"""(?=\b(?P<name>[A-Za-z_][\w.-]*)["']?\s*(?:=>|:=|[:=])\s*(?P<value>\S))""")
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_KEY_BLOCK_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_KEY_BLOCK_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# A diff's per-file header: a private key block never runs on past it.
_DIFF_FILE_HEADER = "diff --git "
_DIFF_LINE_MARKS = ("+", "-", " ")


@dataclass(frozen=True)
class Redacted:
    """Text with its credential-like values replaced, and how many lines that touched."""

    text: str
    lines: int


def redact(text: str) -> Redacted:
    """Replace credential-like values line by line; private key blocks are blanked whole."""
    out: list[str] = []
    changed = 0
    in_key_block = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if in_key_block and body.startswith(_DIFF_FILE_HEADER):
            in_key_block = False
        if in_key_block or _KEY_BLOCK_BEGIN.search(body):
            in_key_block = not _KEY_BLOCK_END.search(body)
            mark = body[:1] if body[:1] in _DIFF_LINE_MARKS else ""
            new = mark + REDACTED
        else:
            new = redact_line(body)
        changed += new != body
        out.append(new + ending)
    return Redacted("".join(out), changed)


def redact_line(line: str) -> str:
    """One line with its key IDs, URL passwords, bearer tokens and credential-like assignments blanked."""
    line = _AWS_KEY_ID.sub(REDACTED, line)
    line = _URL_PASSWORD.sub(lambda match: match["keep"] + REDACTED, line)
    line = _BEARER.sub(lambda match: match["keep"] + REDACTED, line)
    for match in _ASSIGNMENT.finditer(line):
        if is_secret_name(match["name"]) and not line.startswith(REDACTED, match.start("value")):
            # Everything after the first credential-like name goes: quoting and continuations vary too much.
            return line[: match.start("value")] + REDACTED
    return line


def is_secret_name(name: str) -> bool:
    """Whether a variable or key name says it holds a credential (``aws_secret_access_key``, ``apiKey``)."""
    parts = [part.lower() for part in _NAME_PARTS.findall(name)]
    return any(part in _SECRET_WORDS for part in parts) or any(
        pair in _SECRET_PAIRS for pair in itertools.pairwise(parts)
    )
