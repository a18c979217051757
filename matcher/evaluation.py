"""Retrieval quality and speed on the labelled notes in eval/ (separate from the engine)."""
from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .corpus import Corpus, Rule
from .feedback import Example
from .settings import Settings

#: R@20 is the pool a re-ranker of the top 20 could reorder: no re-ranking lifts R@5 above it.
CUTOFFS = (1, 5, 10, 20)

#: Retriever weights per method; dense-only keeps both dense rankings (note and best sentence);
#: sparse is the encoder's latent terms of the whole note, where the encoder has them.
METHODS = {
    "keyword": {"keyword": 1.0, "keyword_sentence": 1.0},
    "dense": {"dense": 1.0, "sentence": 1.0},
    "sparse": {"sparse": 1.0},
    "hybrid": None,  # the configured weights
}


def _memoise_queries(encoder) -> None:
    """Remember the encoder's query vectors per batch of texts for this evaluation run."""
    inner, memo = encoder.encode_queries, {}

    def encode_queries(texts):
        key = tuple(texts)
        if key not in memo:
            memo[key] = inner(list(texts))
        return memo[key]

    encoder.encode_queries = encode_queries


@dataclass(frozen=True)
class Note:
    """A labelled evaluation note."""

    id: str
    split: str
    text: str
    labels: tuple[str, ...]
    tags: tuple[str, ...] = ()


def load_notes(folder: Path, corpus: Corpus) -> list[Note]:
    """Read eval/dev.jsonl and eval/test.jsonl; every label must be a rule in force today.

    Raises:
        ValueError: a note is malformed or names an unknown or repealed entry.
    """
    notes: list[Note] = []
    for split in ("dev", "test"):
        path = Path(folder) / f"{split}.jsonl"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                note = Note(obj["id"], split, obj["text"], tuple(obj["labels"]), tuple(obj.get("tags", ())))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name}:{n}: not a note with id, text and labels ({exc})") from None
            for label in note.labels:
                entry = corpus.get(label)
                if not isinstance(entry, Rule):
                    raise ValueError(f"{path.name}:{n}: note {note.id}: label {label!r} is not a rule in the corpus")
                if not entry.in_force(dt.date.today()):
                    raise ValueError(f"{path.name}:{n}: note {note.id}: label {label!r} is no longer in force")
            notes.append(note)
    return notes


def metrics(ranked: Sequence[str], relevant: Sequence[str]) -> dict[str, float]:
    """Recall@1/5/10/20, main@5, MRR@10 and nDCG@10 (binary gain) of one ranked list of entry ids.

    `relevant` is ordered, most important first; main@5 says whether that first one is in the top 5.
    """
    rel = set(relevant)
    out = {f"R@{k}": len(rel & set(ranked[:k])) / len(rel) for k in CUTOFFS}
    out["main@5"] = float(relevant[0] in ranked[:5])
    first = next((i for i, e in enumerate(ranked[:10], start=1) if e in rel), None)
    out["MRR@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, e in enumerate(ranked[:10], start=1) if e in rel)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), 10) + 1))
    out["nDCG@10"] = dcg / ideal
    return out


class Evaluator:
    """Runs each method with each encoder over the notes and formats the tables."""

    def __init__(self, settings: Settings, encoders: Sequence[str], rerank: bool = False,
                 methods: Sequence[str] | None = None) -> None:
        self.settings = settings
        self.encoders = list(encoders)
        #: add the re-ranked rows ("+rerank": the trained re-ranker and per-problem order)
        self.rerank = rerank
        self.methods = list(methods) if methods else list(METHODS)

    def run(self, notes: Sequence[Note], splits: Sequence[str]) -> list[dict]:
        """One row per (split, method, encoder) with the mean metrics and latency."""
        from .engine import Matcher

        rows: list[dict] = []
        for enc_i, name in enumerate(self.encoders):
            settings = self.settings.replace(encoder=name, rerank=self.rerank or self.settings.rerank)
            matcher = Matcher.load(settings)
            # Every method embeds the same sentences: once per note is enough (latency: see bench_match.py).
            _memoise_queries(matcher.encoder)
            runs = [(m, w, False) for m, w in METHODS.items() if m in self.methods]
            if self.rerank:
                runs.append(("hybrid+rerank", None, True))
            for method, weights, rerank in runs:
                if method == "keyword" and enc_i > 0:
                    continue  # keyword ranking does not depend on the encoder
                if method == "sparse" and not matcher.uses_sparse:
                    continue  # switched off, or this encoder has no sparse terms
                for split in splits:
                    rows.append(self._run_one(matcher, [n for n in notes if n.split == split],
                                              split, method, "-" if method == "keyword" else name, weights, rerank))
            if "test" in splits:
                # The learning loop: dev labels stand in for caseworkers' confirmations.
                matcher.learn(Example(n.text, label) for n in notes if n.split == "dev" for label in n.labels)
                test = [n for n in notes if n.split == "test"]
                rows.append(self._run_one(matcher, test, "test", "hybrid+feedback", name, None, False))
                if self.rerank:
                    rows.append(self._run_one(matcher, test, "test", "hybrid+feedback+rerank", name, None, True))
                matcher.forget()
        return rows

    @staticmethod
    def _run_one(matcher, notes, split, method, encoder, weights, rerank=False) -> dict:
        per_note: list[dict[str, float]] = []
        latency: list[float] = []
        top_in: list[float] = []
        top_out: list[float] = []
        for note in notes:
            t = time.perf_counter()
            sugs = matcher.match(note.text, top=30, weights=weights, rerank=rerank)
            latency.append((time.perf_counter() - t) * 1000)
            (top_in if note.labels else top_out).append(sugs[0].score if sugs else 0.0)
            if note.labels:
                per_note.append(metrics([s.id for s in sugs if s.kind == "rule"], note.labels))
        row = {"split": split, "method": method, "encoder": encoder, "notes": len(per_note)}
        for key in per_note[0] if per_note else []:
            row[key] = float(np.mean([m[key] for m in per_note]))
        # Does the displayed score tell out-of-scope notes apart? Mean top score of each kind.
        row["top in"] = float(np.mean(top_in)) if top_in else 0.0
        row["top oos"] = float(np.mean(top_out)) if top_out else 0.0
        row["p50 ms"] = float(np.percentile(latency, 50)) if latency else 0.0
        row["p95 ms"] = float(np.percentile(latency, 95)) if latency else 0.0
        return row

    def report(self, notes: Sequence[Note], splits: Sequence[str], markdown: bool = False) -> str:
        """The results as a text or Markdown table."""
        rows = self.run(notes, splits)
        cols = ["split", "method", "encoder", "notes", "R@1", "R@5", "R@10", "R@20", "main@5", "MRR@10", "nDCG@10",
                "top in", "top oos", "p50 ms", "p95 ms"]

        def cell(row: dict, c: str) -> str:
            v = row.get(c, "")
            if isinstance(v, float):
                return f"{v:.1f}" if c.endswith("ms") else f"{v:.3f}"
            return str(v)

        table = [[cell(r, c) for c in cols] for r in rows]
        if markdown:
            lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(r) + " |" for r in table]
            return "\n".join(lines)
        widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(cols)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        return "\n".join([fmt.format(*cols), *(fmt.format(*r) for r in table)])
