"""Keyword retrieval over the corpus: BM25 (bm25s) on Danish-stemmed, stop-word-free tokens."""
from __future__ import annotations

from typing import Sequence

import bm25s
import numpy as np

from .text import tokenize


class KeywordIndex:
    """A BM25 index with one document per corpus entry.

    Built in memory at load time: for a corpus of this size it takes milliseconds,
    so there is nothing to save or keep in step with the corpus.
    """

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        tokens = [tokenize(d) or ["\u2205"] for d in documents]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index(tokens, show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)
        self.size = len(documents)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document for a query text (zeros when no word is known)."""
        toks = [t for t in tokenize(text) if t in self._vocab]
        if not toks:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def retrieve(self, text: str, k: int = 20) -> list[tuple[int, float]]:
        """The k best (document index, score) pairs with a positive score, best first."""
        s = self.scores(text)
        order = np.argsort(-s, kind="stable")[:k]
        return [(int(i), float(s[i])) for i in order if s[i] > 0]
