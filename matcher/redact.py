"""Removal of personal identifiers (CPR numbers, phone numbers, e-mail addresses).

Runs before anything is embedded, indexed, stored or logged. It errs on the side
of removing: a ten-digit number shaped like a CPR number goes even when the
date part looks odd, because a leaked CPR costs more than a lost account number.
"""
from __future__ import annotations

import re

from .names import pseudonymise

CPR = "[CPR]"
PHONE = "[TELEFON]"
EMAIL = "[EMAIL]"

# Not glued to other digits or to digit groups (so amounts and dates keep their shape).
_L = r"(?<![\w.,/+-])(?<!\d[ -])"
_R = r"(?![\w/]|[.,]\d|[ -]\d)"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# ddmmyy-xxxx, ddmmyyxxxx or ddmmyy xxxx
_CPR = re.compile(_L + r"(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[ -]?\d{4}" + _R)
_TEN_DIGITS = re.compile(_L + r"\d{10}" + _R)
_PHONE = re.compile(
    r"(?:(?<![\w+])(?:\+|00)45[ -]?|" + _L + r")"
    r"(?:\d{8}|\d{2}(?:[ -]\d{2}){3}|\d{4}[ -]\d{4})" + _R
)


def redact(text: str) -> str:
    """Replace CPR numbers, Danish phone numbers and e-mail addresses with placeholders.

    Args:
        text: free text, as a volunteer wrote it.
    Returns:
        The same text with each identifier replaced by [CPR], [TELEFON] or [EMAIL].
    """
    text = _EMAIL.sub(EMAIL, text)
    text = _CPR.sub(CPR, text)
    text = _TEN_DIGITS.sub(CPR, text)
    text = _PHONE.sub(PHONE, text)
    return pseudonymise(text)  # person names become [NAVN n] (matcher/names.py)
