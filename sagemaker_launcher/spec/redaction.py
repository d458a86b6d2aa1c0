"""Blanking credential-like lines in text the launch record keeps (the uncommitted git diff).

Everyone who can read the bucket can read a record, so a working-tree line such as
``aws_secret_access_key = ...`` must not reach it. A line is either kept exactly as it is or replaced
whole by its diff marker and ``[REDACTED]`` (``+[REDACTED]``, ``-[REDACTED]``, `` [REDACTED]``; a
line without a marker becomes ``[REDACTED]``). Nothing of a redacted line is kept, not even the name
before the value: quoting, escaping and continuations vary too much to cut a line safely.

A line is redacted when any of these fires on it:

- detect-secrets (all its plugins: AWS, GitHub, Slack, Stripe, JWT, private keys, high-entropy
  strings, secret keywords, ...), run over each file of the diff on its own, so that its keyword rules
  suit the file's extension (a ``pragma: allowlist secret`` comment does not keep a line);
- an AWS access key ID (``AKIA…``, ``ASIA…``, ``ABIA…``, ``ACCA…``) or a Hugging Face token (``hf_…``)
  anywhere on the line, a password in a URL (``://user:pass@``), a ``Bearer`` token;
- a credential-like name (see ``is_secret_name``: ``password``, ``pass``, ``pwd``, ``secret``,
  ``token``, ``api_key``, ``auth``, ``credentials``, ``Authorization``, ``Cookie``, ``private_key``,
  ``access_key``, ...) followed by ``=``, ``:``, ``:=``, ``=>``, ``==``, ``!=``, ``+=`` or ``<-`` and
  anything, also inside quotes or brackets (``os.environ["AWS_SECRET_ACCESS_KEY"] = …``,
  ``cfg['password'] = …``, ``"password": …``, ``export DB_PASS=…``), or a quoted name followed by a
  comma (``os.environ.setdefault("API_TOKEN", …)``);
- a credential-like command-line flag (``--password X``, ``--password=X``, ``--api-key X``,
  ``-token X``) or a value glued to ``-p``/``-P`` (``mysql -phunter2``, ``-p"$PASS"``);
- ``set``/``setenv``/``ENV``/``ARG`` with a credential-like name and a value, and ``.netrc`` lines
  (``password X``, ``login bob password X``);
- the line lies in a private key block (``-----BEGIN … PRIVATE KEY-----`` to its ``END`` line, or to
  the next file of the diff);
- the line continues a credential-like value: the line after a redacted line ending in a backslash;
  the lines of the same hunk below a credential-like name whose value is empty, a YAML block indicator
  (``|``, ``>``, with ``-``/``+``) or an opening ``(``, ``[``, ``{`` or ``\\``, for as long as they are
  more indented than that name's line (for YAML also ``-`` items at the same indentation); the lines
  after ``name = \"\"\"`` up to the closing quotes. The diff is read as its two sides: a block opened
  on a ``+`` line runs over ``+`` and context lines, one opened on a ``-`` line over ``-`` and context
  lines, one opened on a context line over all three;
- the line holds a value that detect-secrets found on another line (six characters or more: the
  ``hunter2`` of ``password = "hunter2"`` used again in ``connect("db", "hunter2")``), or an AWS key
  ID or Hugging Face token found anywhere.

Everything else is kept unchanged: diff headers, hunk headers, and code such as ``lr = 0.001`` or
``model = build(cfg)``. The rules err towards redacting: a harmless line blanked by mistake costs a
little detail (``pad_token = "<pad>"``, ``def login(password: str):``, ``find . -print``,
``gcc -pthread``, ``angle = -pi / 2``, a line holding a git hash or a checksum), a kept secret costs a
credential rotation. detect-secrets is imported only when the text holds content to scan, and each
file's content is written to a private temporary folder for it while it scans.
"""

from __future__ import annotations

import functools
import itertools
import locale
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass

REDACTED = "[REDACTED]"
# Words that make a name credential-like, compared with the name's parts (``DB_PASSWORD``, ``apiKey``).
_SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "pass",
        "pwd",
        "pw",
        "passphrase",
        "token",
        "apikey",
        "auth",
        "credential",
        "credentials",
        "authorization",
        "cookie",
        "privatekey",
        "accesskey",
        "secretkey",
    }
)
# Words that make a name credential-like wherever they occur in it (``PGPASSWORD``, ``clientsecret``).
_SECRET_SUBSTRINGS = ("password", "passwd", "passphrase", "secret", "credential", "apikey", "privatekey")
# Pairs of adjacent parts that are credential-like together (``api_key``, ``PRIVATE-KEY``).
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("account", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("session", "key"),
        ("connection", "string"),
    }
)
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

# Values that are credentials whatever surrounds them: AWS access key IDs (long-term AKIA, temporary
# ASIA, ABIA/ACCA bearer ones) and Hugging Face tokens.
_KNOWN_TOKENS = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|\bhf_[A-Za-z0-9]{30,}")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
# ``name = value``, ``"name": value``, ``env["name"] = value``, ``("name", value``, tried at every word.
_ASSIGNMENT = re.compile(
    r"""(?=\b(?P<name>[A-Za-z_][\w.-]*)(?P<close>["'`]?\]?)\s*(?P<op>=>|:=|==|!=|\+=|<-|[:=,]))"""
)
# ``--password X``, ``--api-key=X``, ``-token X``, ``--password`` at the end of a line.
_FLAG = re.compile(r"(?<![\w-])--?(?P<name>[A-Za-z][\w-]*)(?=[=\s]|$)")
# A value glued to ``-p`` or ``-P`` (``mysql -phunter2``, ``"-p$PASS"``), as a word of its own.
_GLUED_P = re.compile(r"""(?<![^\s"'`])-[pP]["']?[^\s"'`,;)\]}|&<>=-]""")
# ``setenv NAME value``, ``set -x NAME value``, Dockerfile ``ENV NAME value`` and ``ARG``.
_SET_COMMAND = re.compile(
    r"(?:^|(?<=[\s;&|(]))(?i:setenv|set|env|arg)(?:\s+-{1,2}\w+)*\s+(?P<name>[A-Za-z_][\w.-]*)\s+\S"
)
# ``.netrc``: ``password X`` on its own line or after ``login NAME``.
_NETRC = re.compile(r"(?i)(?:^\s*|\blogin\s+\S+\s+)(?:password|passwd)\s+\S")
# What after a credential-like name leaves its value to the next lines: nothing, a YAML block
# indicator, or an opening bracket or backslash (a trailing comment allowed).
_OPEN_VALUE = re.compile(r"(?:[|>][1-9+-]{0,2})?\s*(?:#.*)?|.*[(\[{\\]\s*")
_TRIPLE_QUOTES = ('"""', "'''")
_MIN_VALUE_LENGTH = 6

_KEY_BLOCK_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_KEY_BLOCK_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# A diff's per-file header: blocks and private key blocks never run on past it, nor past a hunk header.
_DIFF_FILE_HEADER = "diff --git "
_HUNK_HEADER = "@@"
_NO_NEWLINE_NOTE = "\\ "
_DIFF_LINE_MARKS = ("+", "-", " ")
# The sides of the diff a line belongs to: the old file, the new one, or both (context).
_SIDES = {"+": ("new",), "-": ("old",), " ": ("old", "new"), "": ("old", "new")}

# detect-secrets' filters left off: a diff line saying ``pragma: allowlist secret`` is still blanked,
# and a file whose extension says binary (``.css``, ``.svg``) is still scanned.
_FILTERS_OFF = (
    "detect_secrets.filters.allowlist.is_line_allowlisted",
    "detect_secrets.filters.heuristic.is_non_text_file",
)
# Characters that Python's text files or PyYAML would read as line breaks: kept out of the scanned
# copy so that its line numbers stay those of the diff.
_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))
_EXTENSION = re.compile(r"\.[a-z0-9_+-]{1,15}")
# detect-secrets keeps its settings in one global object: one scan at a time.
_SCANNER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Redacted:
    """Text with its credential-like lines replaced, and how many lines that touched."""

    text: str
    lines: int


@dataclass(frozen=True)
class _Block:
    """Lines that continue a credential-like value: more indented than ``indent``, or up to ``until``."""

    indent: int
    dash_items: bool = False
    until: str | None = None
    # After a line ending in a backslash: only the next line, whatever its indentation.
    next_line: bool = False


@dataclass(frozen=True)
class _LineScan:
    fires: bool
    opens: _Block | None
    values: tuple[str, ...]


@functools.lru_cache(maxsize=2)
def redact(text: str) -> Redacted:
    """Replace each credential-like line by its diff marker and ``[REDACTED]``.

    Cached for the last two texts: each job of a sweep records the same diff.
    """
    bodies, endings = _split_lines(text)
    flagged, values = _own_rules(bodies)
    if any(body.strip() for body in bodies):
        found, found_values = _detect_secrets_lines(bodies)
        flagged |= found
        values |= found_values
    flagged |= _lines_holding(bodies, flagged, values)
    out: list[str] = []
    changed = 0
    for index, (body, ending) in enumerate(zip(bodies, endings, strict=True)):
        if index in flagged:
            new = _mark(body) + REDACTED
            changed += new != body
            body = new
        out.append(body + ending)
    return Redacted("".join(out), changed)


def is_secret_name(name: str) -> bool:
    """Whether a variable or key name says it holds a credential (``aws_secret_access_key``, ``apiKey``)."""
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_SUBSTRINGS):
        return True
    parts = [part.lower() for part in _NAME_PARTS.findall(name)]
    return any(part in _SECRET_WORDS for part in parts) or any(
        pair in _SECRET_PAIRS for pair in itertools.pairwise(parts)
    )


def _split_lines(text: str) -> tuple[list[str], list[str]]:
    """Lines split at ``\\n`` only (as git writes them), each without and with its line ending."""
    pieces = text.split("\n")
    bodies: list[str] = []
    endings: list[str] = []
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        if last and not piece:
            break
        body = piece.rstrip("\r")
        bodies.append(body)
        endings.append(piece[len(body) :] + ("" if last else "\n"))
    return bodies, endings


def _mark(body: str) -> str:
    return body[:1] if body[:1] in _DIFF_LINE_MARKS else ""


def _content(body: str) -> str:
    return body[1:] if _mark(body) else body


def _indent(content: str) -> int:
    return len(content) - len(content.lstrip(" \t"))


def _own_rules(bodies: list[str]) -> tuple[set[int], set[str]]:
    """The lines this module's rules redact, and the known tokens on them, reading the diff hunk by hunk."""
    flagged: set[int] = set()
    values: set[str] = set()
    in_key_block = False
    in_hunk = True  # text before any diff header is read as one hunk
    blocks: dict[str, _Block | None] = {"old": None, "new": None}
    for index, body in enumerate(bodies):
        header = body.startswith((_DIFF_FILE_HEADER, _HUNK_HEADER))
        if header:
            in_hunk = body.startswith(_HUNK_HEADER)
            blocks = {"old": None, "new": None}
            in_key_block = in_key_block and in_hunk
        if (in_key_block and not header) or _KEY_BLOCK_BEGIN.search(body):
            in_key_block = not _KEY_BLOCK_END.search(body)
            flagged.add(index)
            continue
        content = _content(body)
        scan = _scan_line(content)
        values.update(scan.values)
        sides = _SIDES[_mark(body)] if in_hunk and not body.startswith(_NO_NEWLINE_NOTE) else ()
        continued = any([_continues(blocks, side, content) for side in sides])  # each side, no short cut
        if scan.fires or continued:
            flagged.add(index)
            if content.rstrip().endswith("\\"):
                for side in sides:
                    if blocks[side] is None:
                        blocks[side] = _Block(indent=0, next_line=True)
        if scan.opens is not None:
            for side in sides:
                if blocks[side] is None:
                    blocks[side] = scan.opens
    return flagged, values


def _continues(blocks: dict[str, _Block | None], side: str, content: str) -> bool:
    """Whether ``content`` continues the open block of ``side``; a line that does not closes it."""
    block = blocks[side]
    if block is None:
        return False
    if block.next_line:
        blocks[side] = None
        return True
    if block.until is not None:
        if block.until in content:
            blocks[side] = None
        return True
    if not content.strip():
        return False  # a blank line neither ends a block nor holds anything
    indent = _indent(content)
    item = content[indent:] == "-" or content[indent:].startswith(("- ", "-\t"))
    if indent > block.indent or (block.dash_items and indent == block.indent and item):
        return True
    blocks[side] = None
    return False


def _scan_line(content: str) -> _LineScan:
    """Whether this module's rules redact one line, what value block it opens, and the tokens on it."""
    fires = bool(
        _KNOWN_TOKENS.search(content)
        or _URL_PASSWORD.search(content)
        or _BEARER.search(content)
        or _NETRC.search(content)
    )
    opens: _Block | None = None
    for match in _ASSIGNMENT.finditer(content):
        quoted = match["close"][:1] in ('"', "'", "`")
        if not is_secret_name(match["name"]) or (match["op"] == "," and not quoted):
            continue
        rest = content[match.end("op") :]
        fires = fires or bool(rest.strip())
        if opens is None:
            opens = _opened_block(content, match["op"], rest)
    for match in _FLAG.finditer(content):
        fires = fires or is_secret_name(match["name"])
    fires = fires or bool(_GLUED_P.search(content))
    for match in _SET_COMMAND.finditer(content):
        fires = fires or is_secret_name(match["name"])
    return _LineScan(fires, opens, tuple(_KNOWN_TOKENS.findall(content)))


def _opened_block(content: str, op: str, rest: str) -> _Block | None:
    """The block of continuation lines that a credential-like name's value ``rest`` leaves open."""
    stripped = rest.strip()
    for quotes in _TRIPLE_QUOTES:
        if stripped.startswith(quotes) and quotes not in stripped[3:]:
            return _Block(indent=0, until=quotes)
    if _OPEN_VALUE.fullmatch(stripped):
        return _Block(indent=_indent(content), dash_items=op == ":" and stripped[:1] not in ("|", ">"))
    return None


def _sections(bodies: list[str]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The diff cut into its files: each one's extension and content lines (index, text without marker).

    Headers, hunk headers and ``\\ No newline at end of file`` notes are left out; text before any
    ``diff --git`` header is one section of its own, every line of it content.
    """
    sections: list[tuple[str, list[tuple[int, str]]]] = [("", [])]
    in_hunk = True
    for index, body in enumerate(bodies):
        if body.startswith(_DIFF_FILE_HEADER):
            sections.append((_extension(body), []))
            in_hunk = False
        elif body.startswith(_HUNK_HEADER):
            in_hunk = True
        elif in_hunk and not body.startswith(_NO_NEWLINE_NOTE):
            sections[-1][1].append((index, _content(body)))
    return [(extension, lines) for extension, lines in sections if lines]


def _extension(header: str) -> str:
    """The extension of the new path in a ``diff --git a/P b/P`` header, lower-cased; '' if odd or none."""
    name = header.rstrip().rstrip('"').rsplit("/", 1)[-1]
    extension = os.path.splitext(name)[1].lower()
    return extension if _EXTENSION.fullmatch(extension) else ""


def _detect_secrets_lines(bodies: list[str]) -> tuple[set[int], set[str]]:
    """The lines detect-secrets flags, scanning each file's content lines as a file of its extension."""
    sections = _sections(bodies)
    if not sections:
        return set(), set()
    # Imported here: it costs about 0.1 s, which ``--help`` and validation never pay.
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    # The encoding detect-secrets opens files with; what it cannot hold becomes '?', one per character.
    encoding = "utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False)
    flagged: set[int] = set()
    values: set[str] = set()
    with (
        _SCANNER_LOCK,
        tempfile.TemporaryDirectory(prefix="sm-launch-redaction-") as folder,
        default_settings() as settings,
    ):
        settings.disable_filters(*_FILTERS_OFF)
        for number, (extension, lines) in enumerate(sections):
            path = os.path.join(folder, f"file{number}{extension}")
            with open(path, "w", encoding=encoding, errors="replace") as copy:
                copy.write("".join(content.translate(_LINE_BREAKS) + "\n" for _, content in lines))
            try:
                # scan_file yields every finding with its line; SecretsCollection keeps one per value.
                for secret in scan_file(path):
                    if 1 <= secret.line_number <= len(lines):
                        flagged.add(lines[secret.line_number - 1][0])
                    if secret.secret_value and len(secret.secret_value) >= _MIN_VALUE_LENGTH:
                        values.add(secret.secret_value)
            except Exception:
                # A file the scanner cannot read through is redacted whole rather than kept.
                flagged.update(index for index, _ in lines)
            finally:
                os.remove(path)
    return flagged, values


def _lines_holding(bodies: list[str], flagged: set[int], values: set[str]) -> set[int]:
    """The lines not yet redacted that hold one of ``values`` (each at least six characters long)."""
    if not values:
        return set()
    heads: dict[str, list[str]] = {}
    for value in values:
        heads.setdefault(value[:_MIN_VALUE_LENGTH], []).append(value)
    holding: set[int] = set()
    for index, body in enumerate(bodies):
        if index in flagged or len(body) < _MIN_VALUE_LENGTH:
            continue
        if len(values) <= 16:
            if any(value in body for value in values):
                holding.add(index)
            continue
        # Many values: look each window of the line up by its first characters, in time linear in the line.
        for start in range(len(body) - _MIN_VALUE_LENGTH + 1):
            candidates = heads.get(body[start : start + _MIN_VALUE_LENGTH])
            if candidates and any(body.startswith(value, start) for value in candidates):
                holding.add(index)
                break
    return holding
