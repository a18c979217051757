"""Re-ranking the top of the fused ranking: learning to rank over the engine's own signals, and
one entry per problem of the note before a second one.

With a good encoder the labels are in the top 20 and fusion orders them badly: one weighted mean
cannot say "this entry is second on every signal" or "this one only rose as a companion". The
re-ranker is a logistic regression over what the engine already computed per candidate (each
retriever's standardised score and place, the fused score before and after companions and age,
the age fit, the entry's kind, how many sentences put it near their top), trained on the labelled
training notes in rules/training/ (never eval/), kept under `<index_dir>/rerank/<encoder>/` with
a manifest and trained when missing, like the index. Scoring 20 candidates is one small matrix
product: it adds well under a millisecond to a match.

Per problem: a note with several problems names each in its own sentences. Each candidate belongs
to the sentence it matches best; sentences whose best candidates agree are one problem. The top
`problem_slots` places go to the best candidate of each problem before a second candidate of a
problem already shown, unless that second one leads by more than `problem_margin`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from . import __version__
from .dense_index import replace_folder, write_lock
from .index_build import folder_name

if TYPE_CHECKING:
    from .engine import Ranking

log = logging.getLogger(__name__)

#: Bump when the features change: a saved model of another version is trained again.
FEATURE_VERSION = 1
MODEL_FILE = "reranker.json"
#: How the re-ranker is trained (chosen on dev, docs/EVAL.md): regularisation, pairs or single
#: candidates, and whether services named in a training note count as labels (eval/ labels rules only).
TRAINING = {"c": 0.1, "pairwise": False, "positives": "all"}
SIGNALS = ("keyword", "keyword_sentence", "dense", "sentence", "prior", "examples")
FEATURES = (
    *(f"z_{s}" for s in SIGNALS),
    *(f"log_rank_{s}" for s in SIGNALS[:4]),
    "fused", "base", "lifted", "gap_to_first", "log_rank", "wrong_age", "service", "age_stated",
    "child", "sentence_top3_share", "log_best_sentence_rank", "sentences",
)


def _zscores(s: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Standardised over the entries in force, as the fusion does (nan -> the lowest reached)."""
    s = np.asarray(s, dtype=np.float64)
    reached = alive & ~np.isnan(s)
    if not reached.any():
        return np.zeros_like(s)
    s = np.where(np.isnan(s), s[reached].min(), s)
    std = s[alive].std()
    return (s - s[alive].mean()) / std if std > 0 else np.zeros_like(s)


def _ranks(s: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """1-based place of every entry by a score, among the entries in force (nan last)."""
    s = np.where(alive & ~np.isnan(s), s, -np.inf)
    order = np.argsort(-s, kind="stable")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    return ranks


def candidates(ranking: "Ranking", depth: int) -> np.ndarray:
    """The entries the re-ranker reorders: the first `depth` in force (finite score)."""
    top = ranking.order[:depth]
    return top[np.isfinite(ranking.fused[top])]


def features(ranking: "Ranking", cand: np.ndarray, services: np.ndarray) -> np.ndarray:
    """One row of FEATURES per candidate entry."""
    alive, sig = ranking.alive, ranking.signals
    cols = []
    for name in SIGNALS:
        cols.append(_zscores(sig[name], alive)[cand] if name in sig else np.zeros(len(cand)))
    for name in SIGNALS[:4]:
        cols.append(np.log(_ranks(sig[name], alive)[cand]))
    fused = ranking.fused[cand]
    per = ranking.per_sentence[:, cand]  # sentences x candidates
    n_sent = per.shape[0]
    # each sentence's ranking of the candidates: is this one in its top 3, and at best where?
    sent_rank = (-per).argsort(axis=1).argsort(axis=1) + 1
    # by score, not by the candidates' order: the features are the same however they are ordered
    cols += [fused, ranking.base[cand], ranking.lifted[cand], np.nanmax(ranking.fused[alive]) - fused,
             np.log(_ranks(ranking.fused, alive)[cand]), ranking.wrong_age[cand].astype(float),
             services[cand].astype(float), np.full(len(cand), float(ranking.age is not None)),
             np.full(len(cand), float(ranking.child)), (sent_rank <= 3).mean(axis=0),
             np.log(sent_rank.min(axis=0)), np.full(len(cand), np.log(n_sent))]
    return np.nan_to_num(np.stack(cols, axis=1).astype(np.float64))


@dataclass
class Reranker:
    """A logistic regression over FEATURES: standardise, weigh, sum."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    services: np.ndarray
    manifest: dict

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The log-odds that each candidate is an entry a caseworker would consider."""
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def candidate_scores(self, ranking: "Ranking", depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(candidates, their scores) of a ranking."""
        cand = candidates(ranking, depth)
        return cand, self.scores(features(ranking, cand, self.services)) if len(cand) else np.zeros(0)

    def reorder(self, ranking: "Ranking", depth: int) -> np.ndarray:
        """The ranking's order with its first `depth` entries sorted by the re-ranker."""
        cand, s = self.candidate_scores(ranking, depth)
        head = cand[np.argsort(-s, kind="stable")]
        rest = ranking.order[~np.isin(ranking.order, cand)]
        return np.concatenate([head, rest])

    def save(self, folder: Path) -> None:
        """Write the model and its manifest into `folder`."""
        body = dict(self.manifest, features=list(FEATURES), mean=self.mean.tolist(), scale=self.scale.tolist(),
                    coef=self.coef.tolist(), intercept=self.intercept)
        (folder / MODEL_FILE).write_text(json.dumps(body, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, services: np.ndarray, expect: dict) -> "Reranker | None":
        """The saved model if it was trained for `expect` (encoder, corpus, notes, features), else None."""
        try:
            body = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if any(body.get(k) != v for k, v in expect.items()) or body.get("features") != list(FEATURES):
            return None
        return cls(np.array(body["mean"]), np.array(body["scale"]), np.array(body["coef"]),
                   float(body["intercept"]), services, {k: body[k] for k in body if k not in
                                                        {"mean", "scale", "coef", "intercept", "features"}})


def reranker_folder(index_dir: Path, encoder_name: str) -> Path:
    """Where the re-ranker for an encoder is kept."""
    return Path(index_dir) / "rerank" / folder_name(encoder_name)


def expected_manifest(matcher, notes_digest: str) -> dict:
    """What a saved re-ranker must have been trained from to be used as is."""
    s = matcher.settings
    return {"feature_version": FEATURE_VERSION, "encoder": matcher.encoder.name,
            "corpus_hash": matcher.corpus.content_hash, "training_notes": notes_digest,
            "depth": s.rerank_depth, "weights": matcher.default_weights, "age_penalty": s.age_penalty,
            "link_margin": s.link_margin, "training": TRAINING}


def notes_digest(notes: Sequence) -> str:
    """A short hash of the training notes (text and labels)."""
    return hashlib.sha256("\n".join(f"{n.text}|{n.labels}" for n in notes).encode()).hexdigest()[:16]


def training_rows(matcher, notes: Sequence, depth: int, progress: Callable[[int, int], None] | None = None,
                  rankings: Sequence["Ranking"] | None = None,
                  positives: str = "all") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, note number) of the top `depth` candidates of every training note.

    `rankings` are the notes' unre-ranked Rankings when already computed (benchmarks/tune_rerank.py);
    `positives` "rules" counts only the rules a note names as its labels.
    """
    services = np.array([e.kind == "service" for e in matcher.corpus.entries])
    xs, ys, groups = [], [], []
    for n, note in enumerate(notes):
        ranking = rankings[n] if rankings is not None else matcher.rank(note.text, rerank=False)
        cand = candidates(ranking, depth)
        wanted = {matcher.corpus.numbers[label] for label in note.labels if label in matcher.corpus.numbers}
        if positives == "rules":
            wanted = {i for i in wanted if not services[i]}
        xs.append(features(ranking, cand, services))
        ys.append(np.array([int(i) in wanted for i in cand], dtype=float))
        groups.append(np.full(len(cand), n))
        if progress:
            progress(n + 1, len(notes))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0,
        groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coef, intercept) of a logistic regression on standardised features.

    With `groups` (the note of each row) it learns from pairs instead: within a note, a label
    against each candidate that is not one (the difference of their features, both ways round),
    so it learns which of two candidates of one note goes first; the intercept is then 0.
    """
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (x - mean) / scale
    if groups is None:
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(z, y)
        return mean, scale, model.coef_[0], float(model.intercept_[0])
    diffs = []
    for g in np.unique(groups):
        rows = groups == g
        pos, neg = z[rows & (y > 0)], z[rows & (y <= 0)]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1]))
    d = np.vstack(diffs)
    model = LogisticRegression(C=c, max_iter=2000, fit_intercept=False)
    model.fit(np.vstack([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))]))
    return mean, scale, model.coef_[0], 0.0


def train_model(matcher, notes: Sequence, expect: dict, progress: Callable[[int, int], None] | None = None,
                rankings: Sequence["Ranking"] | None = None, training: dict | None = None) -> Reranker:
    """A re-ranker fitted on these training notes (their Rankings computed now unless given)."""
    cfg = dict(TRAINING, **(training or {}))
    started = time.time()
    x, y, groups = training_rows(matcher, notes, matcher.settings.rerank_depth, progress, rankings,
                                 cfg["positives"])
    mean, scale, coef, intercept = fit(x, y, cfg["c"], groups if cfg["pairwise"] else None)
    manifest = dict(expect, training=cfg, notes=len(notes), rows=len(y), positives=int(y.sum()),
                    train_seconds=round(time.time() - started, 1), matcher=__version__,
                    built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    services = np.array([e.kind == "service" for e in matcher.corpus.entries])
    return Reranker(mean, scale, coef, intercept, services, manifest)


def load_or_train(matcher, training_dir: Path, train: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> Reranker | None:
    """The re-ranker of this engine's encoder, corpus and settings: loaded, or trained now when missing.

    Returns None when there are no training notes, or when it is missing and `train` is False.
    """
    from .e5_tuning import load_training_notes

    notes = load_training_notes(training_dir) if Path(training_dir).is_dir() else []
    if not notes:
        return None
    services = np.array([e.kind == "service" for e in matcher.corpus.entries])
    expect = expected_manifest(matcher, notes_digest(notes))
    folder = reranker_folder(matcher.settings.index_dir, matcher.encoder.name)
    found = Reranker.load(folder, services, expect)
    if found is not None or not train:
        return found
    with write_lock(folder):
        found = Reranker.load(folder, services, expect)  # another process may have trained it meanwhile
        if found is not None:
            return found
        model = train_model(matcher, notes, expect, progress)
        replace_folder(folder, model.save)
    log.info("trained the re-ranker on %d notes in %.0f s", len(notes), model.manifest["train_seconds"])
    return model


def problems(ranking: "Ranking", cand: np.ndarray) -> np.ndarray:
    """A problem number per candidate: the group of the sentence it matches best.

    Sentences whose own best candidate is the same entry describe one problem; a candidate
    belongs to the problem of the sentence where it scores highest.
    """
    per = ranking.per_sentence[:, cand]
    if per.shape[0] == 1:
        return np.zeros(len(cand), dtype=int)
    top_of_sentence = per.argmax(axis=1)  # each sentence's best candidate (column)
    group_of_top: dict[int, int] = {}
    group_of_sentence = np.array([group_of_top.setdefault(int(t), s) for s, t in enumerate(top_of_sentence)])
    return group_of_sentence[per.argmax(axis=0)]  # the group of each candidate's best sentence


def per_problem_order(ranking: "Ranking", depth: int, slots: int, margin: float,
                      reranker: Reranker | None = None) -> np.ndarray:
    """The order with the first `slots` places given to one candidate per problem first.

    Candidates keep their order (re-ranker scores, or fused scores without one); a candidate of a
    problem already shown is passed over for the best of a problem not yet shown, unless it leads
    it by more than `margin` (in the same score's units).
    """
    order = ranking.order
    head = order[:depth]
    head = head[np.isfinite(ranking.fused[head])]
    if len(head) < 2:
        return order
    if reranker is not None:
        s = reranker.scores(features(ranking, head, reranker.services))
    else:
        s = ranking.fused[head]
    prob = problems(ranking, head)
    left = list(range(len(head)))  # positions in head, best first
    picked: list[int] = []
    shown: set[int] = set()
    while left and len(picked) < slots:
        first = left[0]
        choice = first
        if prob[first] in shown:
            fresh = next((j for j in left if prob[j] not in shown), None)
            if fresh is not None and s[first] - s[fresh] <= margin:
                choice = fresh
        picked.append(choice)
        shown.add(prob[choice])
        left.remove(choice)
    new_head = head[picked + left]
    return np.concatenate([new_head, order[~np.isin(order, head)]])
