"""Fusing several retrievers' views of the corpus into one score per entry.

Two schemes, chosen by the `fusion` setting from what docs/EVAL.md measures:
- zscore: each retriever's scores are standardised over the entries in force and
  summed with weights (keeps how far ahead an entry is, not only its place);
- rrf: weighted reciprocal rank fusion (uses places only).
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

#: Mean z-score at which the displayed score reaches 1.0.
Z_FULL = 4.0


def _weighted(
    signals: Mapping[str, np.ndarray], weights: Mapping[str, float]
) -> Iterator[tuple[str, float, np.ndarray]]:
    """(name, weight, scores as float64) of every signal with a positive weight."""
    for name, scores in signals.items():
        w = weights.get(name, 0.0)
        if w > 0:
            yield name, w, np.asarray(scores, dtype=np.float64)


def zscore_fusion(
    signals: Mapping[str, np.ndarray], weights: Mapping[str, float], alive: np.ndarray
) -> np.ndarray:
    """Weighted mean of standardised scores, per entry (entries not alive get -inf).

    Args:
        signals: retriever name -> score per entry (np.nan where the retriever did not reach it).
        weights: retriever name -> weight; 0 or missing leaves the retriever out.
        alive: which entries may be suggested (in force on the day).
    Returns:
        Mean z-score per entry.
    """
    fused = np.zeros(alive.shape[0], dtype=np.float64)
    total = 0.0
    for _, w, s in _weighted(signals, weights):
        reached = alive & ~np.isnan(s)
        if not reached.any():
            continue
        s = np.where(np.isnan(s), s[reached].min(), s)
        std = s[alive].std()
        if std > 0:
            fused += w * (s - s[alive].mean()) / std
        total += w
    fused = fused / total if total else fused
    return np.where(alive, fused, -np.inf)


def rrf_fusion(
    signals: Mapping[str, np.ndarray], weights: Mapping[str, float], alive: np.ndarray, k: int = 60
) -> np.ndarray:
    """Weighted reciprocal rank fusion, scaled so first place everywhere gives 1.0."""
    fused = np.zeros(alive.shape[0], dtype=np.float64)
    total = 0.0
    for name, w, s in _weighted(signals, weights):
        reached = np.flatnonzero(alive & ~np.isnan(s) & (s > 0 if name.startswith("keyword") else True))
        order = reached[np.argsort(-s[reached], kind="stable")]
        fused[order] += w / (k + np.arange(1, len(order) + 1))
        total += w / (k + 1)
    fused = fused / total if total else fused
    return np.where(alive, fused, -np.inf)


def display_score(fused: np.ndarray, fusion: str) -> np.ndarray:
    """Map fused values to 0-1 for people: RRF is already there; z-scores reach 1 at Z_FULL."""
    if fusion == "rrf":
        return np.clip(fused, 0.0, 1.0)
    return np.clip(fused / Z_FULL, 0.0, 1.0)
