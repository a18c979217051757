"""The volunteer's outcome page: each confirmed rule or service in plain words, with whom to contact."""
from __future__ import annotations

from dataclasses import dataclass, field

#: At most this many services are named as the way to a confirmed rule.
SERVICES_PER_RULE = 2


@dataclass(frozen=True)
class Explained:
    """A confirmed suggestion with the corpus's summary and where the citizen goes next."""

    suggestion: object
    summary: str | None
    provider: str | None = None
    contact: str | None = None
    url: str | None = None
    #: For a rule: the corpus's services that rest on it (their contact is the way in).
    services: list = field(default_factory=list)


def explain(matcher, suggestions) -> list[Explained]:
    """Return each suggestion with its plain-Danish summary and contact, read from the corpus."""
    corpus = matcher.corpus
    found = []
    for s in suggestions:
        entry = corpus.get(s.entry_id)
        if entry is None:  # an entry since removed from the corpus: its stored title still shows
            found.append(Explained(s, None))
        elif entry.kind == "service":
            found.append(Explained(s, entry.summary, entry.provider, entry.contact, entry.url))
        else:
            ways = [v for v in corpus.services if entry.citation in v.legal_basis and v.contact]
            found.append(Explained(s, entry.summary, url=entry.source_url,
                                   services=ways[:SERVICES_PER_RULE]))
    return found
