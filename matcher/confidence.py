"""How sure the engine is about a note: "nothing fits" and a calibrated confidence (issue 13 §3).

Two small models, both logistic regressions fitted here with numpy:

- the scope model says whether anything in the corpus fits the note. Its features are the note's
  vector (the normalised mean of its sentence vectors, as the engine encodes them) and a few of the
  ranking's scores. It is trained on notes written for training (rules/training/: every labelled note
  and `scope/vague_in_scope.jsonl` in scope, `scope/out_of_scope.jsonl` out of it), never on eval/;
  its threshold for `no_good_match` is chosen on the dev split of eval/ (at most `MAX_DEV_FLAGS` of
  the in-scope dev notes flagged, as many out-of-scope ones as that allows).
- the confidence is the probability that the top suggestion is one a caseworker confirms, fitted on
  the dev split (the strict labels stand in for confirmations; a service counts when its legal basis
  cites a labelled rule) from the scope model's log-odds and two ranking scores.

Both are built on demand, like the index, and kept with a manifest under
`index_dir/confidence/<encoder>/`; a changed corpus, encoder, ranking setting, training file or dev
split builds them again. A corpus without rules/training/scope/ or without eval/dev.jsonl (the small
corpora of the tests) has no model: the fields are then None.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from . import __version__
from .corpus import Corpus, Rule, normalise_section
from .dense_index import replace_folder, write_lock
from .index_build import folder_name
from .settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Matcher

log = logging.getLogger(__name__)

FORMAT = 1
#: Share of in-scope dev notes the no-good-match threshold may flag (the target on test is 5 %).
MAX_DEV_FLAGS = 0.03
#: L2 strength of the scope model (chosen on dev: out-of-scope separation, docs/EVAL.md).
SCOPE_L2 = 1.0
#: L2 strength of the confidence calibration (three features, 193 dev notes).
CALIBRATION_L2 = 0.1
#: The settings that change the ranking's scores, and so the features.
_RANKING_SETTINGS = ("fusion", "rrf_k", "weight_keyword", "weight_keyword_sentence", "weight_dense",
                     "weight_sentence", "weight_sparse", "age_aware", "age_penalty", "age_usual_penalty",
                     "link_margin", "act_documents", "faiss_index")
SCORE_FEATURES = ("top", "gap", "dense", "sentence", "keyword", "keyword_sentence")


@dataclass(frozen=True)
class Verdict:
    """The engine's judgement of its own suggestions for one note."""

    #: 0-1: how likely a caseworker is to confirm the top suggestion (None without a model)
    confidence: Optional[float]
    #: the engine judges that nothing in the corpus fits the note (None without a model)
    no_good_match: Optional[bool]
    #: the scope model's probability that the note is out of scope (None without a model)
    out_of_scope: Optional[float] = None


UNKNOWN = Verdict(None, None, None)


def score_features(signals: dict[str, np.ndarray], fused: np.ndarray) -> np.ndarray:
    """The ranking's scores the models read: the top fused score, its lead over the second, and
    each retriever's best score (dense on the note and the best sentence, BM25 on both, log-scaled)."""
    alive = fused[np.isfinite(fused)]
    two = np.sort(alive)[-2:] if len(alive) else np.zeros(2)
    top = float(two[-1]) if len(two) else 0.0
    gap = float(two[-1] - two[-2]) if len(two) == 2 else 0.0

    def best(name: str) -> float:
        v = signals.get(name)
        if v is None or not np.isfinite(v).any():
            return 0.0
        return float(np.nanmax(v))

    return np.array([top, gap, best("dense"), best("sentence"), math.log1p(max(best("keyword"), 0.0)),
                     math.log1p(max(best("keyword_sentence"), 0.0))], dtype=np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, weights: np.ndarray | None = None,
                 iterations: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns (bias, coefficients...).

    Args:
        x: features (n x d), already scaled.
        y: 0/1 targets.
        l2: penalty on the coefficients (not the bias), per unit of total sample weight.
        weights: per-sample weights (default 1).
    """
    n, d = x.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    xb = np.hstack([np.ones((n, 1)), x])
    beta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -30, 30)))
        grad = xb.T @ (w * (p - y)) + penalty * beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass
class ConfidenceModel:
    """The fitted scope model, threshold and calibration, and the manifest they were built under."""

    scope_mean: np.ndarray
    scope_scale: np.ndarray
    scope_beta: np.ndarray
    threshold: float
    calibration: np.ndarray  # bias, scope log-odds, top, gap
    manifest: dict

    def scope_logit(self, note_vec: np.ndarray, scores: np.ndarray) -> float:
        """Log-odds that the note is out of scope."""
        x = (np.concatenate([np.ravel(note_vec), scores]) - self.scope_mean) / self.scope_scale
        return float(self.scope_beta[0] + x @ self.scope_beta[1:])

    def judge(self, note_vec: np.ndarray, scores: np.ndarray) -> Verdict:
        """The verdict for a note from its vector and the ranking's score features."""
        z = self.scope_logit(note_vec, scores)
        p_out = _sigmoid(z)
        c = self.calibration
        confidence = _sigmoid(float(c[0] + c[1] * z + c[2] * scores[0] + c[3] * scores[1]))
        return Verdict(round(confidence, 4), bool(p_out >= self.threshold), round(p_out, 4))

    def save(self, folder: Path) -> None:
        np.savez(folder / "model.npz", scope_mean=self.scope_mean, scope_scale=self.scope_scale,
                 scope_beta=self.scope_beta, calibration=self.calibration)
        (folder / "manifest.json").write_text(
            json.dumps(dict(self.manifest, threshold=self.threshold), indent=1, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, expect: dict) -> "ConfidenceModel":
        """Read a saved model; FileNotFoundError when missing, ValueError when built from something else."""
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        stale = [k for k, v in expect.items() if manifest.get(k) != v]
        if stale:
            raise ValueError(f"confidence model in {folder} was built with other {', '.join(stale)}")
        with np.load(folder / "model.npz") as z:
            return cls(z["scope_mean"], z["scope_scale"], z["scope_beta"], float(manifest["threshold"]),
                       z["calibration"], manifest)


# ---------------------------------------------------------------------------------------- data


def training_folder(settings: Settings) -> Path:
    return settings.rules_dir / "training"


def dev_file(settings: Settings) -> Path:
    return settings.rules_dir.parent / "eval" / "dev.jsonl"


def _sources(settings: Settings) -> list[Path]:
    folder = training_folder(settings)
    return sorted(folder.glob("*.jsonl")) + sorted((folder / "scope").glob("*.jsonl")) + [dev_file(settings)]


def available(settings: Settings) -> bool:
    """Whether this corpus has what the models are built from (scope notes and a dev split)."""
    return (training_folder(settings) / "scope" / "out_of_scope.jsonl").exists() and dev_file(settings).exists()


def expected_manifest(settings: Settings, corpus: Corpus, encoder_name: str) -> dict:
    digest = hashlib.sha256()
    for path in _sources(settings):
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return {
        "format": FORMAT,
        "encoder": encoder_name,
        "corpus_hash": corpus.content_hash,
        "data_hash": digest.hexdigest(),
        "ranking": {k: getattr(settings, k) for k in _RANKING_SETTINGS},
        "max_dev_flags": MAX_DEV_FLAGS,
        "scope_l2": SCOPE_L2,
        "calibration_l2": CALIBRATION_L2,
    }


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scope_training(settings: Settings) -> tuple[list[str], np.ndarray]:
    """(texts, 1 for out of scope): every labelled training note and the vague in-scope notes in,
    the out-of-scope notes out."""
    folder = training_folder(settings)
    texts: list[str] = []
    out: list[int] = []
    for path in sorted(folder.glob("*.jsonl")):
        for row in _jsonl(path):
            texts.append(row["text"])
            out.append(0)
    for path in sorted((folder / "scope").glob("*.jsonl")):
        for row in _jsonl(path):
            texts.append(row["text"])
            out.append(0 if row["in_scope"] else 1)
    return texts, np.array(out, dtype=np.float64)


def confirmed(corpus: Corpus, suggestion, labels: Sequence[str]) -> bool:
    """Whether a suggestion counts as confirmed under strict labels: a labelled rule, or a service
    whose legal basis cites one."""
    if suggestion is None:
        return False
    if suggestion.id in labels:
        return True
    if suggestion.kind != "service":
        return False
    cited = {normalise_section(b) for b in suggestion.legal_basis}
    return any(isinstance(r := corpus.get(lab), Rule) and normalise_section(r.citation) in cited for lab in labels)


# ---------------------------------------------------------------------------------------- fit


def features_of(matcher: "Matcher", texts: Sequence[str],
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """(note vectors, score features, top suggestion or None) of each text, as the engine ranks it."""
    vecs, scores, tops = [], [], []
    for i, text in enumerate(texts):
        found = matcher.match(text, top=1)
        vecs.append(np.ravel(found.note_vector))
        scores.append(found.scores)
        tops.append(found[0] if len(found) else None)
        if progress:
            progress(i + 1, len(texts))
    return np.array(vecs), np.array(scores), tops


def choose_threshold(p_out: np.ndarray, is_out: np.ndarray, max_flags: float = MAX_DEV_FLAGS) -> float:
    """The threshold on P(out of scope): as many out-of-scope notes flagged as flagging at most
    `max_flags` of the in-scope ones allows, placed midway (in log-odds) between the lowest of those
    out-of-scope notes and the next in-scope note below it, so no in-scope note is flagged that
    need not be."""
    inside = np.sort(p_out[is_out == 0])[::-1]
    outside = p_out[is_out == 1]
    if len(inside) == 0:
        return 0.5
    allowed = int(math.floor(max_flags * len(inside)))
    if allowed >= len(inside):
        return float(inside[-1])
    lowest = float(np.nextafter(inside[allowed], 1.0))  # strictly above the (allowed+1)-th in-scope note
    flagged = outside[outside >= lowest]
    if not len(flagged):
        return lowest
    top = float(flagged.min())
    below = inside[inside < top]
    if not len(below):
        return top
    logit = lambda p: math.log(max(p, 1e-12) / max(1 - p, 1e-12))  # noqa: E731
    return max(lowest, _sigmoid((logit(top) + logit(float(below[0]))) / 2))


def fit(matcher: "Matcher", progress: Callable[[int, int], None] | None = None) -> ConfidenceModel:
    """Fit the scope model on the training notes and threshold and calibrate it on dev."""
    settings, corpus = matcher.settings, matcher.corpus
    started = time.perf_counter()
    texts, is_out = scope_training(settings)
    dev = _jsonl(dev_file(settings))
    total = len(texts) + len(dev)
    step = (lambda done, _t: progress(done, total)) if progress else None
    vecs, scores, _ = features_of(matcher, texts, step)
    step = (lambda done, _t: progress(len(texts) + done, total)) if progress else None
    dvecs, dscores, dtops = features_of(matcher, [r["text"] for r in dev], step)
    dev_out = np.array([0.0 if r["labels"] else 1.0 for r in dev])
    dev_hit = np.array([float(confirmed(corpus, t, r["labels"])) for t, r in zip(dtops, dev, strict=True)])
    model = fit_features(vecs, scores, is_out, dvecs, dscores, dev_out, dev_hit)
    model.manifest = dict(
        expected_manifest(settings, corpus, matcher.encoder.name), matcher=__version__,
        training_notes=len(texts), training_out_of_scope=int(is_out.sum()), dev_notes=len(dev),
        build_seconds=round(time.perf_counter() - started, 1), built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return model


def fit_features(vecs: np.ndarray, scores: np.ndarray, is_out: np.ndarray, dev_vecs: np.ndarray,
                 dev_scores: np.ndarray, dev_out: np.ndarray, dev_hit: np.ndarray,
                 scope_l2: float = SCOPE_L2, max_flags: float = MAX_DEV_FLAGS) -> ConfidenceModel:
    """The models from the features: the scope model on the training notes (`is_out` 1 for out of
    scope), its threshold on dev (`dev_out`), the calibration on dev (`dev_hit`: top confirmed)."""
    x = np.hstack([vecs, scores])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    # balanced classes: the out-of-scope notes weigh as much in all as the in-scope ones
    w = np.where(is_out == 1, 0.5 / max(is_out.mean(), 1e-9), 0.5 / max(1 - is_out.mean(), 1e-9))
    beta = fit_logistic((x - mean) / scale, is_out, scope_l2 * len(x) / 100, w)
    model = ConfidenceModel(mean, scale, beta, 0.5, np.zeros(4), {})
    z = np.array([model.scope_logit(v, s) for v, s in zip(dev_vecs, dev_scores, strict=True)])
    model.threshold = choose_threshold(1 / (1 + np.exp(-z)), dev_out, max_flags)
    cal_x = np.column_stack([z, dev_scores[:, 0], dev_scores[:, 1]])
    if 0 < dev_hit.sum() < len(dev_hit):
        model.calibration = fit_logistic(cal_x, dev_hit, CALIBRATION_L2)
    else:  # one class only: a constant probability (the share confirmed)
        p = min(max(dev_hit.mean() if len(dev_hit) else 0.5, 1e-3), 1 - 1e-3)
        model.calibration = np.array([math.log(p / (1 - p)), 0.0, 0.0, 0.0])
    return model


def model_folder(settings: Settings, encoder_name: str) -> Path:
    return settings.index_dir / "confidence" / folder_name(encoder_name)


def load_or_build(matcher: "Matcher", rebuild: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> Optional[ConfidenceModel]:
    """The saved model for this matcher, built (and saved) when missing or stale and `rebuild`.

    Returns None when the corpus has no scope notes or dev split, or the model is missing and
    `rebuild` is False.
    """
    settings = matcher.settings
    if not available(settings):
        return None
    folder = model_folder(settings, matcher.encoder.name)
    expect = expected_manifest(settings, matcher.corpus, matcher.encoder.name)
    try:
        return ConfidenceModel.load(folder, expect)
    except (FileNotFoundError, ValueError, KeyError, OSError) as exc:
        if not rebuild:
            log.warning("no confidence model (%s); run `matcher index build`", exc.__class__.__name__)
            return None
    with write_lock(folder):
        try:  # another process may have built it while this one waited
            return ConfidenceModel.load(folder, expect)
        except (FileNotFoundError, ValueError, KeyError, OSError):
            pass
        log.info("fitting the confidence model in %s", folder)
        model = fit(matcher, progress)
        replace_folder(folder, model.save)
    return model
