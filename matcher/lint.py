"""Checks of the corpus that are worth a warning but not a refusal to load."""
from __future__ import annotations

import datetime as dt

from .corpus import Corpus, Rule, Service, normalise_section


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
