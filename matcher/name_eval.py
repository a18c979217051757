"""How well names are removed, measured on the labelled sentences in eval/names.jsonl."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .names import name_spans, pseudonymise

_MARK = re.compile(r"\{([^{}]+)\}")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


@dataclass(frozen=True)
class NameSentence:
    """A sentence whose people's names are marked in braces: "Fru {Jensen} (88)"."""

    id: str
    split: str
    marked: str

    @property
    def text(self) -> str:
        return _MARK.sub(r"\1", self.marked)

    def name_ranges(self) -> list[tuple[int, int]]:
        """Character ranges of the marked names in `text`."""
        out, shift = [], 0
        for m in _MARK.finditer(self.marked):
            start = m.start() - shift
            out.append((start, start + len(m.group(1))))
            shift += 2
        return out


def load_name_sentences(path: Path) -> list[NameSentence]:
    """Read eval/names.jsonl.

    Raises:
        ValueError: a line is not {"id", "split", "marked"} or its braces do not pair.
    """
    out: list[NameSentence] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            sentence = NameSentence(obj["id"], obj["split"], obj["marked"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{Path(path).name}:{n}: not a sentence with id, split and marked ({exc})") from None
        if sentence.marked.count("{") != sentence.marked.count("}") or "{" in _MARK.sub("", sentence.marked):
            raise ValueError(f"{Path(path).name}:{n}: the braces around names do not pair")
        out.append(sentence)
    return out


def score(sentences: list[NameSentence]) -> dict[str, float]:
    """Word-level precision and recall of name removal, and the share of other words removed."""
    names_total = names_removed = others_total = others_removed = 0
    idempotent = 0
    t = time.perf_counter()
    for s in sentences:
        text = s.text
        removed = [(a, b) for a, b, _ in name_spans(text)]
        marked = s.name_ranges()
        for w in _WORD.finditer(text):
            is_name = any(a <= w.start() < b for a, b in marked)
            gone = any(a <= w.start() < b for a, b in removed)
            names_total += is_name
            names_removed += is_name and gone
            others_total += not is_name
            others_removed += gone and not is_name
        once = pseudonymise(text)
        idempotent += pseudonymise(once) == once
    ms = (time.perf_counter() - t) * 1000 / max(len(sentences), 1)
    removed_total = names_removed + others_removed
    return {
        "sentences": len(sentences),
        "name words": names_total,
        "precision": names_removed / removed_total if removed_total else 1.0,
        "recall": names_removed / names_total if names_total else 1.0,
        "other words removed": others_removed / others_total if others_total else 0.0,
        "idempotent": idempotent / max(len(sentences), 1),
        "ms per sentence": ms,
    }


def misses(sentences: list[NameSentence]) -> list[str]:
    """Each sentence the pseudonymisation gets wrong, marked as the labels and as the result."""
    out = []
    for s in sentences:
        text = s.text
        marked, removed = s.name_ranges(), [(a, b) for a, b, _ in name_spans(text)]
        wrong = [w for w in _WORD.finditer(text)
                 if any(a <= w.start() < b for a, b in marked) != any(a <= w.start() < b for a, b in removed)]
        once = pseudonymise(text)
        if wrong or pseudonymise(once) != once:
            out.append(f"{s.id}: {s.marked}\n    -> {once}")
    return out


def report(sentences: list[NameSentence], splits: list[str], markdown: bool = False) -> str:
    """A table of the scores per split."""
    cols = ["split", "sentences", "name words", "precision", "recall", "other words removed", "idempotent",
            "ms per sentence"]
    rows = []
    for split in splits:
        chosen = sentences if split == "all" else [s for s in sentences if s.split == split]
        r = {"split": split, **score(chosen)}
        rows.append([str(r[c]) if isinstance(r[c], (int, str)) else
                     (f"{r[c]:.2f}" if c == "ms per sentence" else f"{r[c]:.3f}") for c in cols])
    if markdown:
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*cols), *(fmt.format(*r) for r in rows)])
