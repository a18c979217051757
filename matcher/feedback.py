"""Caseworkers' decisions fed back into matching: a prior per entry and nearest confirmed examples.

Each confirmed suggestion says "notes like this one need this entry"; each rejection says
the opposite. Two signals come out, fused with the retrievers like any other:
- prior: log((1 + confirmations) / (1 + rejections)) per entry;
- examples: the best cosine similarity between the note and the confirmed examples of an entry.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

import numpy as np

from .encoders import Encoder
from .names import without_names


@dataclass(frozen=True)
class Example:
    """One decision: a redacted text (a note or its evidence), an entry id and the verdict.

    `vector` is the text's embedding by this engine's encoder (`Feedback.vector`), when the caller
    stored it; without one a confirmed example is encoded when it is learned.
    """

    text: str
    entry_id: str
    confirmed: bool = True
    vector: Optional[np.ndarray] = field(default=None, compare=False, repr=False)


class Feedback:
    """Holds decisions for one process; `add` may run while other threads match."""

    def __init__(self, encoder: Encoder, entry_index: Mapping[str, int], max_examples: int = 300) -> None:
        self._encoder = encoder
        # Every decision counts in the prior, but only the newest confirmed texts are encoded and
        # kept: encoding costs a full encoder call each, and a process replays decisions at start.
        self._max_examples = max_examples
        self._entry_index = dict(entry_index)
        n = len(self._entry_index)
        # Replaced whole on each add (never mutated), so readers need no lock.
        self._state = (np.zeros((0, encoder.dim), np.float32), np.zeros(0, np.int64), np.zeros(n), np.zeros(n))
        self._write = threading.Lock()

    def __len__(self) -> int:
        return int(self._state[2].sum() + self._state[3].sum())

    def add(self, examples: Iterable[Example]) -> int:
        """Learn from decisions, oldest first; examples naming unknown entries are skipped.

        Returns how many were used (all count in the prior; the newest confirmed ones become examples).
        """
        known = [e for e in examples if e.entry_id in self._entry_index and e.text.strip()]
        if not known:
            return 0
        confirmed = [e for e in known if e.confirmed][-self._max_examples:] if self._max_examples > 0 else []
        new_vecs = self._vectors(confirmed) if confirmed else None
        with self._write:
            vecs, owners, conf, rej = self._state
            conf, rej = conf.copy(), rej.copy()
            for e in known:
                (conf if e.confirmed else rej)[self._entry_index[e.entry_id]] += 1
            if new_vecs is not None:
                keep = self._max_examples
                vecs = np.vstack([vecs, new_vecs.astype(np.float32)])[-keep:]
                owners = np.concatenate([owners, [self._entry_index[e.entry_id] for e in confirmed]])[-keep:]
            self._state = (vecs, owners, conf, rej)
        return len(known)

    def vectors(self, texts: list[str]) -> np.ndarray:
        """The embeddings examples of `texts` are kept as (float32, n x dim): store them to skip encoding later."""
        return self._encoder.encode_queries([without_names(t) for t in texts]).astype(np.float32)

    def _vectors(self, examples: list[Example]) -> np.ndarray:
        """The examples' vectors: the ones given (of this encoder's size), the rest encoded in one batch."""
        out = np.zeros((len(examples), self._encoder.dim), np.float32)
        missing = []
        for i, e in enumerate(examples):
            if e.vector is not None and np.shape(e.vector) == (self._encoder.dim,):
                out[i] = e.vector
            else:
                missing.append(i)
        if missing:
            out[missing] = self._encoder.encode_queries([without_names(examples[i].text) for i in missing])
        return out

    def signals(self, note_vec: np.ndarray) -> dict[str, np.ndarray]:
        """The prior and examples signals for a note vector (empty before any decision)."""
        vecs, owners, conf, rej = self._state
        if not (conf.any() or rej.any()):
            return {}
        out = {"prior": np.log((1 + conf) / (1 + rej))}
        if len(owners):
            sims = vecs @ note_vec.reshape(-1)
            best = np.full(conf.shape[0], -np.inf)
            np.maximum.at(best, owners, sims)
            out["examples"] = np.where(np.isinf(best), np.nan, best)
        return out
