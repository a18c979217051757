"""Evidence highlighting: split a note into plain and highlighted segments."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A run of the note's text and the suggestions whose evidence covers it."""

    text: str
    refs: tuple[int, ...] = ()


def segments(text: str, evidence: dict[int, list[str]]) -> list[Segment]:
    """Split `text` at evidence boundaries; `evidence` maps a suggestion id to its sentences."""
    covers: list[set[int]] = [set() for _ in text]
    for ref, sentences in evidence.items():
        for sentence in sentences:
            sentence = sentence.strip()
            start = text.find(sentence) if sentence else -1
            # Evidence the engine rewrote (not found verbatim) stays listed under
            # its suggestion; the note itself is then left as it is.
            while start != -1:
                for i in range(start, start + len(sentence)):
                    covers[i].add(ref)
                start = text.find(sentence, start + len(sentence))
    result: list[Segment] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or covers[i] != covers[start]:
            result.append(Segment(text[start:i], tuple(sorted(covers[start]))))
            start = i
    return result
