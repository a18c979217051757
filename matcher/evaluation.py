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

from .confidence import confirmed
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
        flags: dict[bool, list[float]] = {True: [], False: []}  # no_good_match, by out of scope or not
        judged: list[tuple[float, float]] = []  # (confidence, top suggestion confirmed)
        for note in notes:
            t = time.perf_counter()
            sugs = matcher.match(note.text, top=30, weights=weights, rerank=rerank)
            latency.append((time.perf_counter() - t) * 1000)
            (top_in if note.labels else top_out).append(sugs[0].score if sugs else 0.0)
            if weights is None and sugs.no_good_match is not None:  # the verdict is fitted on the hybrid ranking
                flags[not note.labels].append(float(sugs.no_good_match))
                judged.append((sugs.confidence, float(confirmed(matcher.corpus, sugs[0] if sugs else None,
                                                                note.labels))))
            if note.labels:
                per_note.append(metrics([s.id for s in sugs if s.kind == "rule"], note.labels))
        row = {"split": split, "method": method, "encoder": encoder, "notes": len(per_note)}
        for key in per_note[0] if per_note else []:
            row[key] = float(np.mean([m[key] for m in per_note]))
        # Does the displayed score tell out-of-scope notes apart? Mean top score of each kind.
        row["top in"] = float(np.mean(top_in)) if top_in else 0.0
        row["top oos"] = float(np.mean(top_out)) if top_out else 0.0
        # "Nothing fits": share of out-of-scope notes flagged no_good_match, and of in-scope notes wrongly so.
        if flags[True] or flags[False]:
            row["oos flagged"] = float(np.mean(flags[True])) if flags[True] else 0.0
            row["in flagged"] = float(np.mean(flags[False])) if flags[False] else 0.0
            row["_judged"] = judged
        row["p50 ms"] = float(np.percentile(latency, 50)) if latency else 0.0
        row["p95 ms"] = float(np.percentile(latency, 95)) if latency else 0.0
        return row

    def report(self, notes: Sequence[Note], splits: Sequence[str], markdown: bool = False) -> str:
        """The results as a text or Markdown table."""
        rows = self.run(notes, splits)
        cols = ["split", "method", "encoder", "notes", "R@1", "R@5", "R@10", "R@20", "main@5", "MRR@10", "nDCG@10",
                "top in", "top oos", "oos flagged", "in flagged", "p50 ms", "p95 ms"]

        def cell(row: dict, c: str) -> str:
            v = row.get(c, "")
            if isinstance(v, float):
                return f"{v:.1f}" if c.endswith("ms") else f"{v:.3f}"
            return str(v)

        out = [format_table(cols, [[cell(r, c) for c in cols] for r in rows], markdown)]
        for r in rows:
            if r.get("_judged"):
                title = f"Reliability of the confidence: {r['split']}, {r['method']}, {r['encoder']}"
                out += ["", title, reliability_table(r["_judged"], markdown)]
        return "\n".join(out)


def reliability_table(judged: Sequence[tuple[float, float]], markdown: bool = False,
                      edges: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)) -> str:
    """Per confidence bin: notes, mean confidence and the share whose top suggestion was confirmed,
    then the expected calibration error (the notes-weighted gap) and the Brier score."""
    conf = np.array([c for c, _ in judged], dtype=float)
    hit = np.array([h for _, h in judged], dtype=float)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf >= lo) & ((conf < hi) if hi < edges[-1] else (conf <= hi))
        n = int(inside.sum())
        rows.append([f"{lo:.1f}-{hi:.1f}", str(n), f"{conf[inside].mean():.3f}" if n else "-",
                     f"{hit[inside].mean():.3f}" if n else "-"])
    ece = sum(abs(conf[m].mean() - hit[m].mean()) * m.sum() for m in
              [((conf >= lo) & ((conf < hi) if hi < edges[-1] else (conf <= hi))) for lo, hi in
               zip(edges[:-1], edges[1:], strict=True)] if m.any()) / max(len(conf), 1)
    brier = float(np.mean((conf - hit) ** 2)) if len(conf) else 0.0
    rows.append(["all", str(len(conf)), f"{conf.mean():.3f}" if len(conf) else "-",
                 f"{hit.mean():.3f}" if len(conf) else "-"])
    table = format_table(["confidence", "notes", "mean confidence", "top confirmed"], rows, markdown)
    return f"{table}\nECE {ece:.3f}, Brier {brier:.3f}"


def format_table(cols: Sequence[str], table: Sequence[Sequence[str]], markdown: bool) -> str:
    """Rows of cells as a Markdown or an aligned text table."""
    if markdown:
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(r) + " |" for r in table]
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*cols), *(fmt.format(*r) for r in table)])
