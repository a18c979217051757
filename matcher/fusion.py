"""Fusing several rankings of corpus entries into one: weighted reciprocal rank fusion."""
from __future__ import annotations

from typing import Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[int]], weights: Mapping[str, float], k: int = 60
) -> dict[int, float]:
    """Fuse rankings (lists of entry numbers, best first) into a score in [0, 1] per entry.

    Each list gives weight / (k + rank); the sum is divided by its maximum, so an entry
    ranked first by every retriever scores 1.0.

    Args:
        rankings: retriever name -> entry numbers, best first.
        weights: retriever name -> weight (missing means 1.0).
        k: the RRF constant; larger flattens the rank differences.
    Returns:
        entry number -> fused score.
    """
    total = sum(weights.get(name, 1.0) for name in rankings) / (k + 1)
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        w = weights.get(name, 1.0)
        for rank, entry in enumerate(ranking, start=1):
            fused[entry] = fused.get(entry, 0.0) + w / (k + rank)
    if total <= 0:
        return {e: 0.0 for e in fused}
    return {e: s / total for e, s in fused.items()}
