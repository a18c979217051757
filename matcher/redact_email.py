"""E-mail addresses in a normalised text (matcher/redact.py normalises and replaces them).

An address is a local part, an @ or a spelled one ((at), [at], snabel-a, " at "), and a host with
dots, spelled dots ((dot), [punktum]) or " dot " between its labels; spaces and hyphenated line
breaks inside it are allowed where volunteers type them.
"""
from __future__ import annotations

import re

EMAIL = "[EMAIL]"

_AT = re.compile(
    r"@|[(\[{<][ \t]{0,2}(?:at|snabel-?a|a)[ \t]{0,2}[)\]}>]"
    r"|(?<=\w)[ \t]{1,3}at[ \t]{1,3}(?=\w)",
    re.IGNORECASE,
)
_LABEL = r"[\w-]{1,63}(?:(?<=-)\n[ \t]{0,4}[\w-]{1,63})?"
_TLD = r"(?:dk|com|org|net|eu|se|no|de|nu|io|info|uk|gl|fo)\b"
_DOT = (
    r"(?:\n?\.(?:\n[ \t]{0,4}(?=" + _TLD + r"))?"
    r"|\s{0,3}[(\[{<][ \t]{0,2}(?:dot|punktum|prik|punkt)[ \t]{0,2}[)\]}>]\s{0,3})"
)
_DOMAIN = re.compile(_LABEL + r"(?:" + _DOT + _LABEL + r"){0,10}", re.IGNORECASE)
_DOMAIN_DOTTED = re.compile(_LABEL + r"(?:" + _DOT + _LABEL + r"){1,10}", re.IGNORECASE)
_DOMAIN_WORDS = re.compile(_LABEL + r"(?:[ \t]{1,3}dot[ \t]{1,3}" + _LABEL + r"){1,5}\b", re.IGNORECASE)
_SPELLED_LOCAL = re.compile(
    r"[\w.+%-]{1,64}(?:\s{0,3}[(\[{<][ \t]{0,2}(?:dot|punktum|prik|punkt)[ \t]{0,2}[)\]}>]\s{0,3}"
    r"|[ \t]{1,3}dot[ \t]{1,3})\Z",
    re.IGNORECASE,
)
_LOCAL_CHARS = frozenset("._+%-")


def _is_local(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ch in _LOCAL_CHARS


def _local_start(text: str, end: int, floor: int) -> int:
    """Where the local part (before the @) that ends at `end` starts; `end` if there is none."""
    i = end
    while i > floor and end - i < 128:
        ch = text[i - 1]
        if _is_local(ch):
            i -= 1
        elif ch == "\n" and i >= 2 and text[i - 2] == "-":
            i -= 1  # a hyphenated line break inside the address
        else:
            break
    while i < end and text[i] in "._+%-\n":
        i += 1
    if i == end:
        return end
    if i - 7 >= floor and text[i - 7 : i].lower() == "mailto:":
        i -= 7
    return i


def email_spans(text: str) -> list[tuple[int, int]]:
    """Spans of e-mail addresses in normalised text: @, (at), [at] or 'at ... dot', with spaces or line breaks."""
    spans: list[tuple[int, int]] = []
    last = 0
    for at in _AT.finditer(text):
        if at.start() < last:
            continue
        spelled = at.group() != "@"
        words = spelled and at.group().strip().lower() == "at"
        before = at.start()
        while before > 0 and before > at.start() - 4 and text[before - 1] in " \t\n":
            before -= 1
        after = at.end()
        while after < len(text) and after < at.end() + 4 and text[after] in " \t\n":
            after += 1
        loose = spelled or before != at.start() or after != at.end()
        start = _local_start(text, before, last)
        if start == before:
            continue
        while (dotted := _SPELLED_LOCAL.search(text, max(last, start - 80), start)) is not None:
            start = dotted.start()  # anna[dot]jensen[at]..., anna dot jensen at ...: the name before a spelled dot
        pattern = _DOMAIN_WORDS if words else _DOMAIN_DOTTED if loose else _DOMAIN
        domain = pattern.match(text, after)
        if not domain or not re.search(r"[^\W\d_]", domain.group()):
            continue
        end = domain.end()
        while text[end - 1] in "-\n ":  # a trailing hyphen is punctuation, not part of the host
            end -= 1
        spans.append((start, end))
        last = end
    return spans
