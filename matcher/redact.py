"""Removal of personal identifiers (CPR numbers, phone numbers, e-mail addresses).

Runs before anything is embedded, indexed, stored or logged. The text is matched in a
normalised copy (NFKC, one kind of dash, one kind of space, invisible characters dropped),
and only the identifiers' spans are replaced in the text as written, so everything else
stays exactly as the volunteer typed it.

Numbers are read as runs of digit groups joined by spaces, dots, dashes, slashes or a line
break; each run is split into CPR numbers (a date-shaped first six digits and four more)
and phone numbers (eight digits, with or without +45/0045; 9-15 digits after + or 00 and
another country code), and what cannot be read as one of them (amounts, dates, times, spans
of years, house numbers) is kept.

`redact()` runs `STEPS` in order; a further step (names) is appended there.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple

from .names import pseudonymise

CPR = "[CPR]"
PHONE = "[TELEFON]"
EMAIL = "[EMAIL]"

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


# ---------------------------------------------------------------- e-mail addresses

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


def _email_spans(text: str) -> list[tuple[int, int]]:
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


# ---------------------------------------------------------------- numbers

_SEP = r"(?:[ ]{0,3}\n[ ]{0,6}|[ ]{0,2}[-./][ ]{0,2}(?:\n[ ]{0,6})?|[ ]{1,3})"
_RUN = re.compile(r"\d+(?:" + _SEP + r"\d+)*")
_DIGITS = re.compile(r"\d+")

_FILLERS = r"(?:[\W_]{0,4}(?:nr|nummer|number|no|er|på|til|hende|ham|mig|os|dem|hjem|op|on|at|is))*[\W_]{0,4}\Z"
_PHONE_CUE = re.compile(r"\b(?:tlf|telefon|tel|mobil|mob|ring|sms|phone|call|fon|kontakt)\w*" + _FILLERS, re.I)
_CPR_CUE = re.compile(r"\b(?:cpr|personnummer|personnr|personnumm|p-nr|pnr)\w*" + _FILLERS, re.I)
# Before a number: it is a time, a week, a section or a company number, not a phone number.
_NOT_BEFORE = re.compile(r"(?:\b(?:kl|klokken|uge|uger|stk|cvr|se-nr)\.?|§)[ \t]{0,3}\Z", re.I)
_NOT_AFTER = re.compile(r"[ \t]{0,3}(?:kr\b|kr\.|kroner|dkk|eur|euro|mio|mia|procent|%|€|,-|,\d)", re.I)
_PLUS = re.compile(r"\+[ \t]{0,2}\Z")
_CODE_BEFORE = re.compile(r"\([ \t]{0,2}(?:\+|00)[ \t]{0,2}45[ \t]{0,2}\)[ \t-]{0,3}\Z")


class _Sep(NamedTuple):
    kind: str  # " ", "-", ".", "/" or "\n" (a line break, which stands for any separator)
    tight: float  # how closely it binds the digits on each side
    glue: bool  # a bare line break (or '-' and a line break): possibly one number broken across lines


def _sep(raw: str) -> _Sep:
    core = raw.replace(" ", "").replace("\n", "")
    if not core:
        if "\n" in raw:
            return _Sep("\n", 0.5, raw == "\n")
        return _Sep(" ", 1.0, False)
    if "\n" in raw:
        return _Sep(core, 1.0, raw == "-\n")
    return _Sep(core, 2.0 if raw == core else 1.5, False)


def _uniform(seps: list[_Sep]) -> bool:
    return len({s.kind for s in seps if s.kind != "\n"}) <= 1


def _is_date(d: str, m: str, y: str) -> bool:
    return 1 <= int(d) <= 31 and 1 <= int(m) <= 12 and (len(y) != 4 or 1900 <= int(y) <= 2099)


_SHAPE, _SEMANTIC = "shape", "semantic"  # why a group of digits is not an identifier
_CODE = "code"  # the cue for a phone number that is a country code (+45, 0045), stronger than a word


def _phone(groups: list[str], seps: list[_Sep], cue: bool | str) -> str | None:
    """PHONE if eight digits in these groups are a phone number, else why not."""
    digits = "".join(groups)
    sizes = [len(g) for g in groups]
    if len(digits) != 8 or not _uniform(seps):
        return _SHAPE
    if 1 in sizes and set(sizes) != {1}:
        return _SHAPE
    if cue is not _CODE and sizes in ([2, 2, 4], [4, 2, 2]) and (not cue or {s.kind for s in seps} <= set(".-/")):
        d, m, y = groups if sizes[0] == 2 else groups[::-1]
        if _is_date(d, m, y):
            return _SEMANTIC  # a date, even after "ringede" if written as one; but not after +45
    if cue:
        return PHONE
    if digits[0] == "0" or any(g.startswith("0045") for g in groups[1:]):
        return _SEMANTIC  # no Danish number starts with 0; 0045 begins the next number
    if sizes == [4, 4] and all(1900 <= int(g) <= 2099 for g in groups) and 0 < int(groups[1]) - int(groups[0]) <= 30:
        return _SEMANTIC  # a span of years
    if sizes == [2, 3, 3] and seps[0].kind == ".":
        return _SEMANTIC  # thousands: an amount
    return PHONE


def _cpr(groups: list[str], seps: list[_Sep], cue: bool) -> str | None:
    """CPR if these groups are a CPR number (ddmmyy and four digits, any common grouping), else why not."""
    digits = "".join(groups)
    sizes = [len(g) for g in groups]
    bounds, total = [], 0
    for size in sizes[:-1]:
        total += size
        bounds.append(total)
    if len(digits) == 12:  # ddmmyyyy-xxxx: a date with the full year, a dash and four digits
        if bounds not in ([8], [2, 4, 8]) or seps[-1].kind != "-" or not _uniform(seps[:-1]):
            return _SHAPE
        if not (_is_date(digits[:2], digits[2:4], digits[4:8]) and 1850 <= int(digits[4:8]) <= 2099):
            return _SEMANTIC
        return CPR
    if len(digits) != 10:
        return _SHAPE
    if set(sizes) == {1}:
        if not _uniform(seps):
            return _SHAPE
    elif bounds:
        if 6 not in bounds or not set(bounds) <= {2, 4, 6, 8}:
            return _SHAPE
        at = dict(zip(bounds, seps, strict=True))
        date_seps = [at[b] for b in (2, 4) if b in at]
        if not _uniform(date_seps):
            return _SHAPE
        if 8 in at and not _uniform(seps):
            return _SHAPE  # dd.mm.yy hh.mm is a date and a time
    if cue or _is_date(digits[:2], digits[2:4], digits[4:6]):
        return CPR
    return _SEMANTIC


@functools.lru_cache(maxsize=4096)  # long runs of the same digit groups are read once
def _judge(groups: tuple[str, ...], seps: tuple[_Sep, ...], checks: tuple[tuple[Callable, object], ...]):
    """(placeholder, groups as read) if these groups are one identifier, else None; one line break may split a group."""
    verdicts = [check(groups, seps, cue) for check, cue in checks]
    for verdict in verdicts:
        if verdict in (CPR, PHONE):
            return verdict, groups
    glued = [k for k, sep in enumerate(seps) if sep.glue]
    if len(glued) == 1:
        k = glued[0]
        joined = (*groups[:k], groups[k] + groups[k + 1], *groups[k + 2 :])
        joined_seps = seps[:k] + seps[k + 1 :]
        for (check, cue), verdict in zip(checks, verdicts, strict=True):
            if verdict == _SHAPE and check(joined, joined_seps, cue) in (CPR, PHONE):
                return check(joined, joined_seps, cue), joined
    return None


def _number_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Spans of CPR and phone numbers in normalised text (with e-mail addresses masked)."""
    for run in _RUN.finditer(text):
        yield from _run_spans(text, run)


def _run_spans(text: str, run: re.Match) -> Iterator[tuple[int, int, str]]:
    atoms = [(m.start(), m.end(), m.group()) for m in _DIGITS.finditer(text, run.start(), run.end())]
    seps = [_sep(text[a[1] : b[0]]) for a, b in zip(atoms, atoms[1:], strict=False)]
    before = text[max(0, run.start() - 40) : run.start()]
    foreign = _foreign_number(atoms, seps, before)
    if foreign:
        start, k = foreign
        yield start, atoms[k][1], PHONE
        atoms, seps, before = atoms[k + 1 :], seps[k + 1 :], ""
        if not atoms:
            return
    ctx = _Context(
        cpr_cue=bool(_CPR_CUE.search(before)),
        phone_cue=bool(_PHONE_CUE.search(before)),
        not_before=bool(_NOT_BEFORE.search(before)),
        not_after=bool(_NOT_AFTER.match(text, run.end())),
        codes=_country_codes(atoms, before),
        digits=[a[2] for a in atoms],
    )
    n = len(atoms)
    # Best reading of the run: as many digits inside identifiers as possible, in the shapes people
    # write them; a later start on a tie ("Hobrovej 42 22 33 44 55").
    best = [0] * (n + 1)
    choice: list[tuple[int, str, int] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i], choice[i] = best[i + 1], None
        for j, kind, start, score in _candidates(atoms, seps, i, ctx):
            score += best[j + 1]
            if score > best[i]:
                best[i], choice[i] = score, (j, kind, start)
    i = 0
    while i < n:
        if choice[i] is None:
            i += 1
            continue
        j, kind, start = choice[i]
        yield start, atoms[j][1], kind
        i = j + 1


def _foreign_number(atoms, seps, before: str) -> tuple[int, int] | None:
    """(start, last atom) of a phone number abroad (+380 67 123 4567, 00963 944 123 456), if the run begins with one.

    After + or 00 and a country code other than 45, 9 to 15 digits in groups are a phone number.
    """
    plus = _PLUS.search(before)
    first = atoms[0][2]
    if plus:
        if first.startswith("45"):
            return None
        start, total, least = atoms[0][0] - len(plus.group()), 0, 9
    elif first.startswith("00") and not first.startswith("0045") and len(first) >= 3:
        start, total, least = atoms[0][0], -2, 9
    else:
        return None
    last = None
    for k, atom in enumerate(atoms):
        if k and seps[k - 1].kind == "/":
            break
        total += len(atom[2])
        if total > 15:
            break
        if total >= least:
            last = k
    return (start, last) if last is not None else None


_COMMON_SHAPES = {(8,), (2, 2, 2, 2), (4, 4), (3, 3, 2), (2, 3, 3), (10,), (6, 4), (2, 2, 2, 4), (2, 2, 2, 2, 2)}


@functools.lru_cache(maxsize=4096)
def _shape_bonus(groups: tuple[str, ...], whole: bool) -> int:
    """Prefer the common groupings, and not a year at the edge of a number cut out of a longer run."""
    sizes = tuple(len(g) for g in groups)
    bonus = 1 if sizes in _COMMON_SHAPES or set(sizes) == {1} else 0
    edges = (groups[0], groups[-1])
    if not whole and len(groups) > 1 and any(len(g) == 4 and 1900 <= int(g) <= 2099 for g in edges):
        bonus -= 1
    return bonus


@dataclass(frozen=True)
class _Context:
    cpr_cue: bool  # "cpr", "personnummer" just before the run
    phone_cue: bool  # "tlf", "mobil", "ring" just before the run
    not_before: bool  # "kl.", "uge", "kr.", "§" just before the run
    not_after: bool  # "kr", "%", ",-" just after it
    codes: dict[int, tuple[int, int, bool]]  # atom -> (digits of the code it begins with, where it starts, sure)
    digits: list[str]  # each atom's digits


def _country_codes(atoms: list[tuple[int, int, str]], before: str) -> dict[int, tuple[int, int, bool]]:
    """The atoms that begin with a country code, where the code starts, and whether it is surely one.

    +45, (+45) and 0045 surely are: the digits after them are read as a phone number or not at
    all. A bare 45 before eight digits may be one.
    """
    codes: dict[int, tuple[int, int, bool]] = {}
    outside = _CODE_BEFORE.search(before)
    plus = _PLUS.search(before)
    run_start = atoms[0][0]
    if outside:
        codes[0] = (0, run_start - len(outside.group()), True)
    elif plus and atoms[0][2].startswith("45"):
        codes[0] = (2, run_start - len(plus.group()), True)
    for i, (start, _, digits) in enumerate(atoms):
        if i in codes:
            continue
        if digits.startswith("0045"):
            codes[i] = (4, start, True)
        elif digits == "45" and i + 1 < len(atoms):
            codes[i] = (2, start, False)
    return codes


def _tied(atoms, seps, k: int, outside: int, codes) -> bool:
    """Whether separator k joins the candidate closely to a shorter number outside it (12.03, 2019-08).

    A slash is left out: it is how two numbers are written side by side (22 33 44 55/33 44 55 66).
    """
    if not 0 <= k < len(seps) or seps[k].tight != 2.0 or seps[k].kind == "/":
        return False
    return len(atoms[outside][2]) < 8 and outside not in codes


def _candidates(atoms, seps, i, ctx: _Context) -> Iterator[tuple[int, str, int, int]]:
    """(last atom, placeholder, start, score) of each identifier that can start at atom i."""
    n = len(atoms)
    if i == 0 and ctx.not_before and not (ctx.phone_cue or ctx.cpr_cue or 0 in ctx.codes):
        return
    code, code_start, strong = ctx.codes.get(i, (None, None, False))
    total, tight = 0, 3.0
    for j in range(i, n):
        total += len(ctx.digits[j])
        if j > i:
            tight = min(tight, seps[j - 1].tight)
        if total > 12 + (code or 0):
            return
        plain = total in (8, 10, 12) and not strong
        coded = code is not None and total - code == 8
        if not (plain or coded):
            continue
        if j == n - 1 and ctx.not_after:
            return
        if tight < 2.0 and (_tied(atoms, seps, i - 1, i - 1, ctx.codes) or _tied(atoms, seps, j, j + 1, ctx.codes)):
            continue  # spaced groups cut out of a dotted or dashed number (a date, an amount)
        groups = tuple(ctx.digits[i : j + 1])
        inner = tuple(seps[i:j])
        whole = i == 0 and j == n - 1
        if plain:
            # a cue word speaks for the number right after it, not for the rest of the run
            read = _judge(groups, inner, ((_cpr, ctx.cpr_cue and i == 0), (_phone, ctx.phone_cue and i == 0)))
            if read:
                yield j, read[0], atoms[i][0], 10 * total + _shape_bonus(read[1], whole)
        if coded:
            rest = (groups[0][code:], *groups[1:]) if len(groups[0]) > code else groups[1:]
            rest_seps = inner if len(groups[0]) > code else inner[1:]
            read = _judge(rest, rest_seps, ((_phone, _CODE),)) if rest else None
            if read:
                yield j, PHONE, code_start, 10 * total + _shape_bonus(read[1], whole)


# ---------------------------------------------------------------- the whole step

def find_identifiers(text: str) -> list[Span]:
    """Every CPR number, phone number and e-mail address in a text.

    Args:
        text: free text, as a volunteer wrote it.
    Returns:
        Spans in `text`, in order and not overlapping, each with its placeholder.
    """
    norm = _Normalised(text)
    found = [(s, e, EMAIL) for s, e in _email_spans(norm.text)]
    masked = list(norm.text)
    for s, e, _ in found:
        masked[s:e] = "\0" * (e - s)
    found += _number_spans("".join(masked))
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
