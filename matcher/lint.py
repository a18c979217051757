"""Checks of the corpus beyond its schema: warnings, and the check of every rule against its act."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .acts import Acts, fold
from .corpus import Corpus, Rule, Service, normalise_section

#: A consolidation often already shows a repeal that takes effect within weeks after its date.
REPEAL_GRACE = dt.timedelta(days=31)


def lint(corpus: Corpus, today: dt.date | None = None) -> list[str]:
    """Warnings: services citing provisions the corpus lacks, repealed rules without successor."""
    today = today or dt.date.today()
    known = {(r.law, normalise_section(r.section)) for r in corpus.rules}
    out: list[str] = []
    for e in corpus.entries:
        if isinstance(e, Service):
            for cite in e.legal_basis:
                law, section = cite.split(" ", 1)
                if (law, normalise_section(section)) not in known:
                    out.append(f"{e.id}: legal_basis {cite!r} has no rule entry in the corpus")
        elif isinstance(e, Rule) and e.valid_to and e.valid_to < today and not e.successor:
            out.append(f"{e.id}: repealed on {e.valid_to} but names no successor")
    return out


@dataclass
class ActCheck:
    """What `check_against_acts` found.

    `errors` always fail the check. `pending` fail it only when strict: rules not yet given
    key terms or the act they were checked against, and dates the act contradicts.
    `notes` never fail it.
    """

    errors: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verified: int = 0  # rules whose section text was compared with their key terms
    historical: int = 0  # rules that ended before their act, so its text is not theirs

    def failures(self, strict: bool) -> list[str]:
        """The findings that fail the check."""
        return self.errors + (self.pending if strict else [])


def check_against_acts(corpus: Corpus, acts: Acts, today: dt.date | None = None) -> ActCheck:
    """Verify every rule against the enacted text of its act, and every service's legal basis.

    A rule in force today (or later) must cite a section its act has and does not mark
    '(Ophævet)', whose text holds each of the rule's key terms (case and whitespace ignored).
    A rule that ended before today may cite a repealed or vanished section. A service's
    legal basis must be a rule of the corpus that is in force today.

    Args:
        corpus: the loaded corpus.
        acts: the acts on file (rules/acts/).
        today: the day the check applies the law (default: today).
    Returns:
        The findings, each naming the entry and what to fix.
    """
    today = today or dt.date.today()
    out = ActCheck()
    for r in corpus.rules:
        _check_rule(r, acts, today, out)
    _check_legal_basis(corpus, today, out)
    return out


def _check_rule(r: Rule, acts: Acts, today: dt.date, out: ActCheck) -> None:
    act = acts.get(r.law)
    if act is None:
        out.errors.append(f"{r.id}: no act of {r.law} in rules/acts/; import one with 'matcher acts import FILE'")
        return
    sec = act.section(r.section)
    ended = r.valid_to is not None and r.valid_to < today
    if sec is None or sec.repealed:
        state = f"marks {sec.label} '(Ophævet)'" if sec else f"has no {r.section}"
        if not ended:
            out.errors.append(f"{r.id}: {act.citation} {state}, but the entry is in force "
                              f"(valid_to {r.valid_to or 'open'}); correct the section or its dates")
        elif r.valid_to > act.date + REPEAL_GRACE:
            out.pending.append(f"{r.id}: {act.citation} of {act.date} already {state}, but the entry is "
                               f"in force until {r.valid_to}; correct valid_to")
        else:
            out.historical += 1
        return
    if r.valid_to is not None and r.valid_to < act.date:
        out.historical += 1  # the act's wording is its successor's, not this entry's
        return
    text = fold(sec.text)
    missing = [t for t in r.key_terms if fold(t) not in text]
    if missing:
        out.errors.append(f"{r.id}: {r.citation} in {act.citation} does not contain "
                          f"{', '.join(repr(t) for t in missing)}; a wrong or renumbered section, or wrong key_terms")
    elif r.key_terms:
        out.verified += 1
    else:
        out.pending.append(f"{r.id}: no key_terms, so {r.citation} is not compared with {act.citation}")
    if r.checked_against is None:
        out.pending.append(f"{r.id}: checked_against is missing; write '{act.citation}' once checked")
    elif _act_key(r.checked_against) != _act_key(act.citation):
        out.pending.append(f"{r.id}: checked against {r.checked_against!r}, but rules/acts/ holds "
                           f"{act.citation!r}; check it against that act or import the one named")
    # An act (LOV) takes effect after its date; a consolidation (LBK) is the law as of its date.
    if act.kind == "LBK" and r.valid_from > act.date + REPEAL_GRACE:
        out.pending.append(f"{r.id}: in force from {r.valid_from}, after {act.citation} of {act.date}; "
                           f"import a newer act of {r.law}")
    if r.source_url.rstrip("/") != act.eli:
        out.notes.append(f"{r.id}: source_url {r.source_url} is not the act on file ({act.eli})")


def _check_legal_basis(corpus: Corpus, today: dt.date, out: ActCheck) -> None:
    rules: dict[tuple[str, str], list[Rule]] = {}
    for r in corpus.rules:
        rules.setdefault((r.law, normalise_section(r.section)), []).append(r)
    for s in corpus.services:
        for cite in s.legal_basis:
            law, section = cite.split(" ", 1)
            found = rules.get((law, normalise_section(section)), [])
            if not found:
                out.errors.append(f"{s.id}: legal_basis {cite!r} is no rule of the corpus; "
                                  "add the rule or correct the citation")
            elif not any(r.in_force(today) for r in found):
                ids = ", ".join(r.id for r in found)
                out.errors.append(f"{s.id}: legal_basis {cite!r} is not in force on {today} ({ids}); "
                                  "cite its successor")


def _act_key(citation: str) -> tuple[str, ...] | str:
    """What identifies an act in a citation: its kind, number and year.

    'LOV nr. 1651 af 30/12/2024' and 'LOV nr. 1651 af 2024' name the same act.
    """
    m = re.match(r"\s*(LBK|LOV|BEK)\s+nr\.?\s*(\d+)\s+af\s+(?:\d{1,2}/\d{1,2}/)?(\d{4})\s*$", citation, re.I)
    return (m.group(1).upper(), m.group(2), m.group(3)) if m else citation.strip()
