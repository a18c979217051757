"""Evidence precision: do the sentences quoted for a suggestion support it? (issue 13 §4)

eval/evidence.jsonl labels 50 dev notes: for each of a note's labelled provisions, which of its
sentences (as the engine splits the redacted note) support it. A quoted sentence counts as right
when it is one of those; only suggestions of a labelled provision are counted, since nothing says
which sentences would support any other entry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvidenceLabel:
    """One note's supporting sentences per labelled provision."""

    id: str
    text: str
    support: dict[str, frozenset[str]]


def load_evidence_labels(path: Path, notes: dict[str, str]) -> list[EvidenceLabel]:
    """Read the label file; `notes` maps note ids to their text (eval/dev.jsonl).

    Raises:
        ValueError: a line is malformed, names an unknown note, or a supporting sentence that is
            not one of the note's sentences.
    """
    out: list[EvidenceLabel] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            sentences, support = set(row["sentences"]), row["support"]
            text = notes[row["id"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{Path(path).name}:{n}: not an evidence label of a dev note ({exc})") from None
        for entry, quoted in support.items():
            if not set(quoted) <= sentences:
                raise ValueError(f"{Path(path).name}:{n}: a sentence supporting {entry} is not one of the note's")
        out.append(EvidenceLabel(row["id"], text, {e: frozenset(q) for e, q in support.items()}))
    return out


def evidence_precision(matcher, labels: list[EvidenceLabel], top: int = 10) -> dict[str, float]:
    """Over the labelled provisions the engine suggests in its top `top`: the share of quoted
    sentences that support them (precision), the share of those suggestions with at least one
    supporting sentence quoted (covered) and with none quoted at all (silent)."""
    quoted = right = suggested = covered = silent = 0
    for label in labels:
        for s in matcher.match(label.text, top=top):
            support = label.support.get(s.id)
            if support is None:
                continue
            suggested += 1
            quoted += len(s.evidence)
            hits = sum(e in support for e in s.evidence)
            right += hits
            covered += hits > 0
            silent += not s.evidence
    return {"notes": len(labels), "suggestions": suggested, "quoted": quoted,
            "precision": right / quoted if quoted else 0.0,
            "covered": covered / suggested if suggested else 0.0,
            "silent": silent / suggested if suggested else 0.0}
