"""Building the dense index for a corpus and an encoder: the documents, the manifest, the one writer."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable, Optional

from . import __version__
from .acts import Acts, load_acts
from .corpus import Corpus, Entry, Rule
from .dense_index import FORMAT, DenseIndex, build_dense_index, library_versions, replace_folder, write_lock
from .encoders import Encoder
from .settings import Settings


def entry_documents(entry: Entry, acts: Optional[Acts] = None) -> list[str]:
    """The texts embedded for an entry: its title with summary, then each everyday situation,
    and with `acts` a rule's enacted section (when its act has it and does not mark it repealed)."""
    docs = [f"{entry.title}. {entry.summary}", *entry.situations]
    if acts is not None and isinstance(entry, Rule):
        section = acts.section(entry.law, entry.section)
        if section is not None and not section.repealed:
            docs.append(section.text)
    return docs


def acts_digest(settings: Settings) -> Optional[str]:
    """The content hash of rules/acts/ when the index embeds the enacted texts, else None."""
    if not settings.act_documents:
        return None
    digest = hashlib.sha256()
    folder = settings.rules_dir / "acts"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def keyword_document(entry: Entry) -> str:
    """The one text the keyword index holds for an entry."""
    return " ".join([entry.title, entry.summary, *entry.situations, *entry.keywords])


def folder_name(name: str) -> str:
    """A name made safe for a file or folder ('tuned:minilm' -> 'tuned_minilm')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def index_folder(settings: Settings, encoder: Encoder) -> Path:
    """Where the index of this encoder lives: one folder per encoder under index_dir."""
    return settings.index_dir / folder_name(encoder.name)


def expected_manifest(settings: Settings, corpus: Corpus, encoder: Encoder) -> dict:
    """What a saved index must have been built from to be used as is."""
    return {
        "format": FORMAT,
        "encoder": encoder.name,
        "dim": encoder.dim,
        "corpus_hash": corpus.content_hash,
        "entries": len(corpus),
        "faiss_index": settings.faiss_index,
        "sparse": uses_sparse(settings, encoder),
        "act_documents": acts_digest(settings),
        "libraries": library_versions(),
    }


def uses_sparse(settings: Settings, encoder: Encoder) -> bool:
    """Whether notes are matched on sparse latent terms too: the encoder has them and they weigh."""
    return settings.weight_sparse > 0 and encoder.sparse_dim > 0


def build_index(
    settings: Settings,
    corpus: Corpus,
    encoder: Encoder,
    progress: Callable[[int, int], None] | None = None,
) -> DenseIndex:
    """Build the dense index for this corpus and encoder and save it (the only writer)."""
    docs: list[str] = []
    doc_entry: list[int] = []
    acts = load_acts(settings.rules_dir / "acts") if settings.act_documents else None
    for i, e in enumerate(corpus.entries):
        for d in entry_documents(e, acts):
            docs.append(d)
            doc_entry.append(i)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    manifest = dict(expected_manifest(settings, corpus, encoder), matcher=__version__)
    total = len(docs) * (2 if manifest["sparse"] else 1)  # the sparse terms are a second pass
    folder = index_folder(settings, encoder)
    with write_lock(folder):
        dense = build_dense_index(docs, doc_entry, encoder, manifest, settings.faiss_index, step)
        replace_folder(folder, dense.save)
    return dense
