"""CPR and phone numbers in a normalised text (matcher/redact.py normalises and replaces them).

Numbers are read as runs of digit groups joined by spaces, dots, dashes, slashes or a line
break; each run is split into CPR numbers (a date-shaped first six digits and four more)
and phone numbers (eight digits, with or without +45/0045; 9-15 digits after + or 00 and
another country code), and what cannot be read as one of them (amounts, dates, times, spans
of years, house numbers) is kept.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple

CPR = "[CPR]"
PHONE = "[TELEFON]"

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


def number_spans(text: str) -> Iterator[tuple[int, int, str]]:
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
