"""The contrastive training loop of the tuned encoders (`tuned:<base>` in matcher/tuning.py and
`tuned:e5` in matcher/e5_tuning.py).

A batch holds one pair per entry: a query and a passage of the same entry. Each query is pulled
towards its own passage and pushed away from every other passage of the batch (InfoNCE with
in-batch negatives, the loss sentence-transformers calls MultipleNegativesRankingLoss); extra
passages after the batch's own, such as a training note's hard negatives, are negatives for every
query. What differs between the encoders is given as functions: how the model is loaded and what of
it is trained, how an epoch of batches is drawn, and how a batch is embedded; saving is the
caller's.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trained:
    """A trained model and the facts of its run for the manifest."""

    model: Any
    batches: int
    mean_loss: float


def train_contrastive(
    params,
    threads: int,
    load: Callable[[], tuple[Any, Any, Iterable[Any]]],
    epoch: Callable[[random.Random], list[Sequence[Any]]],
    embed: Callable[[Any, Sequence[Any]], tuple[Any, Any]],
    progress: Callable[[int, int], None] | None = None,
    symmetric: bool = True,
) -> Trained:
    """Seed, load, draw every epoch's batches, then train with AdamW, batch by batch.

    Args:
        params: a TuningParams (seed, epochs, learning_rate, scale; the rest is for the callbacks).
        threads: CPU threads for torch.
        load: called once seeded; returns (the model, the torch module to switch between train
            and eval mode, the parameters to train).
        epoch: one epoch of batches drawn with the given random generator; called params.epochs
            times after `load`, so every epoch is drawn before training starts.
        embed: (model, batch) -> (queries, passages), L2-normalised rows with gradients; passage
            i is query i's positive, passages past len(batch) are negatives for every query.
        progress: called (done, total) per batch.
        symmetric: also the loss of passages against queries (averaged with that of queries
            against passages); needs exactly one passage per query.
    Returns:
        The model, in eval mode, with the number of batches and the mean loss (4 decimals).
    """
    import torch

    torch.manual_seed(params.seed)
    torch.set_num_threads(threads)
    rng = random.Random(params.seed)
    model, module, trainable = load()
    epochs = [epoch(rng) for _ in range(params.epochs)]
    total, done, loss_sum = sum(len(e) for e in epochs), 0, 0.0
    optimiser = torch.optim.AdamW(trainable, lr=params.learning_rate)
    module.train()
    for batches in epochs:
        for batch in batches:
            queries, passages = embed(model, batch)
            sim = queries @ passages.T * params.scale
            target = torch.arange(len(batch))
            loss = torch.nn.functional.cross_entropy(sim, target)
            if symmetric:
                loss = (loss + torch.nn.functional.cross_entropy(sim.T, target)) / 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            loss_sum += loss.item()
            done += 1
            if progress:
                progress(done, total)
    module.eval()
    return Trained(model, total, round(loss_sum / max(total, 1), 4))
