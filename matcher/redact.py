"""Removal of personal identifiers (CPR numbers, phone numbers, e-mail addresses).

Runs before anything is embedded, indexed, stored or logged. The text is matched in a
normalised copy (NFKC, one kind of dash, one kind of space, invisible characters dropped),
and only the identifiers' spans are replaced in the text as written, so everything else
stays exactly as the volunteer typed it.

E-mail addresses are found by matcher/redact_email.py, CPR and phone numbers by
matcher/redact_numbers.py (with the addresses masked, so their digits are not read twice).

`redact()` runs `STEPS` in order; a further step (names) is appended there.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from .names import pseudonymise
from .redact_email import EMAIL, email_spans
from .redact_numbers import CPR, PHONE, number_spans

__all__ = ["CPR", "EMAIL", "PHONE", "STEPS", "Span", "find_identifiers", "redact", "redact_identifiers"]

_MINUS_SIGNS = frozenset("\u2212\u2796\u02d7\u2043\ufe63\uff0d")


@dataclass(frozen=True, order=True)
class Span:
    """One identifier found in a text: [start, end) in the text as written, and its placeholder."""

    start: int
    end: int
    kind: str


class _Normalised:
    """A copy of a text that is easier to match, with the position in the original of each character."""

    def __init__(self, text: str) -> None:
        mapping = {ch: _normalise_char(ch) for ch in set(text)}
        if all(len(out) == 1 for out in mapping.values()):  # one for one: positions do not move
            self.text = text.translate({ord(ch): out for ch, out in mapping.items() if out != ch})
            self._src = None
        else:
            chars: list[str] = []
            src: list[int] = []
            for i, ch in enumerate(text):
                for out in mapping[ch]:
                    chars.append(out)
                    src.append(i)
            self.text = "".join(chars)
            self._src = src

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of the normalised characters [start, end)."""
        if self._src is None:
            return start, end
        return self._src[start], self._src[end - 1] + 1


def _normalise_char(ch: str) -> str:
    """What one character stands for when identifiers are matched ('' for invisible ones)."""
    if ch.isascii():
        return " " if ch in "\t\v\f\r" else ch
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me"):  # zero-width spaces, soft hyphens, direction marks, accents
        return ""
    if category == "Pd" or ch in _MINUS_SIGNS:
        return "-"
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if ch in "\u2028\u2029\x85":
        return "\n"
    if category == "Zs":
        return " "
    out = unicodedata.normalize("NFKC", ch)
    return "".join("-" if unicodedata.category(c) == "Pd" else "/" if c == "\u2044" else c for c in out)


def find_identifiers(text: str) -> list[Span]:
    """Every CPR number, phone number and e-mail address in a text.

    Args:
        text: free text, as a volunteer wrote it.
    Returns:
        Spans in `text`, in order and not overlapping, each with its placeholder.
    """
    norm = _Normalised(text)
    found = [(s, e, EMAIL) for s, e in email_spans(norm.text)]
    masked = list(norm.text)
    for s, e, _ in found:
        masked[s:e] = "\0" * (e - s)
    found += number_spans("".join(masked))
    return [Span(*norm.original(s, e), kind) for s, e, kind in sorted(found)]


def redact_identifiers(text: str) -> str:
    """Replace each identifier's span by its placeholder; every other character stays as written."""
    parts, pos = [], 0
    for span in find_identifiers(text):
        parts += [text[pos : span.start], span.kind]
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


# The steps of redaction, in order; each takes and returns text and must be idempotent.
STEPS: list[Callable[[str], str]] = [redact_identifiers, pseudonymise]  # names last (matcher/names.py)


def redact(text: str) -> str:
    """Replace CPR numbers, Danish phone numbers and e-mail addresses with placeholders.

    Args:
        text: free text, as a volunteer wrote it.
    Returns:
        The same text with each identifier replaced by [CPR], [TELEFON] or [EMAIL].
    """
    for step in STEPS:
        text = step(text)
    return text
