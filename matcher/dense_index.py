"""The FAISS index over the corpus, saved as a folder with a manifest of what built it."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import faiss
import numpy as np
import scipy.sparse

from .encoders import Encoder

FORMAT = 1
_BATCH = 32


class IndexMismatch(RuntimeError):
    """The saved index was built from another corpus, encoder or format."""


@dataclass
class DenseIndex:
    """Vectors of corpus documents; several documents (title, situations) point to one entry."""

    index: faiss.Index
    doc_entry: np.ndarray  # document number -> entry number
    manifest: dict
    # documents x latent terms, when the encoder has them; by column, so that a note's few terms
    # read only their own postings (6x faster than a row-wise product at this corpus's size)
    sparse: scipy.sparse.csc_matrix | None = None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product search: (scores, entry numbers), each (n_queries, k); -1 pads."""
        k = min(k, self.index.ntotal)
        scores, docs = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        entries = np.where(docs >= 0, self.doc_entry[np.maximum(docs, 0)], -1)
        return scores, entries

    def save(self, folder: Path) -> None:
        """Write index.faiss, doc_entry.npy, sparse.npz (if any) and manifest.json into folder."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "index.faiss"))
        np.save(folder / "doc_entry.npy", self.doc_entry)
        if self.sparse is not None:
            scipy.sparse.save_npz(folder / "sparse.npz", self.sparse)
        (folder / "manifest.json").write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path, expect: dict) -> "DenseIndex":
        """Load a saved index, refusing one whose manifest differs from `expect`.

        Sparse terms are the one exception: an index that has them serves settings that do not
        use them, so switching them off and on again does not rebuild.

        Raises:
            FileNotFoundError: nothing saved there.
            IndexMismatch: saved from another corpus, encoder or format, or without sparse terms
                that are wanted.
        """
        manifest = fitting_manifest(folder, expect)
        index = faiss.read_index(str(folder / "index.faiss"))
        sparse = scipy.sparse.load_npz(folder / "sparse.npz").tocsc() if manifest.get("sparse") else None
        return cls(index=index, doc_entry=np.load(folder / "doc_entry.npy"), manifest=manifest, sparse=sparse)


def fitting_manifest(folder: Path, expect: dict) -> dict:
    """The manifest of the index saved in `folder`, read without its vectors, when it fits `expect`.

    Raises:
        FileNotFoundError: nothing saved there.
        IndexMismatch: saved from another corpus, encoder or format, or without wanted sparse terms.
    """
    manifest = json.loads((folder / "manifest.json").read_text())
    stale = [k for k, v in expect.items()
             if manifest.get(k) != v and not (k == "sparse" and manifest.get(k) and not v)]
    if stale:
        raise IndexMismatch(
            f"index in {folder} does not fit ({', '.join(stale)} changed); "
            "run `matcher index build`"
        )
    return manifest


def make_faiss_index(vectors: np.ndarray, kind: str) -> faiss.Index:
    """A flat (exact) or HNSW inner-product index holding `vectors`."""
    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        raise ValueError(f"unknown FAISS index type {kind!r}; use flat or hnsw")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def build_dense_index(
    documents: Sequence[str],
    doc_entry: Sequence[int],
    encoder: Encoder,
    manifest: dict,
    kind: str = "flat",
    progress: Callable[[int], None] | None = None,
) -> DenseIndex:
    """Encode the documents in batches and index them.

    Args:
        documents: the texts to embed.
        doc_entry: for each document, the number of its corpus entry.
        encoder: the dense encoder.
        manifest: what built it (kept beside the vectors); with `"sparse": true` the documents'
            sparse latent terms are encoded too (a second pass).
        kind: 'flat' or 'hnsw'.
        progress: called with the number of documents done after each batch (of each pass).
    """
    started = time.perf_counter()

    def batches(encode: Callable[[Sequence[str]], object]) -> list:
        parts = []
        for i in range(0, len(documents), _BATCH):
            parts.append(encode(documents[i : i + _BATCH]))
            if progress:
                progress(parts[-1].shape[0])
        return parts

    parts = batches(encoder.encode_documents)
    vectors = np.vstack(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
    index = make_faiss_index(vectors, kind)
    sparse = None
    if manifest.get("sparse"):
        sparse = scipy.sparse.vstack(batches(encoder.encode_sparse), format="csc", dtype=np.float32)
    full = dict(manifest, documents=len(documents), build_seconds=round(time.perf_counter() - started, 2),
                built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return DenseIndex(index=index, doc_entry=np.asarray(doc_entry, dtype=np.int64), manifest=full, sparse=sparse)


@contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Serialise writers of one index folder across processes (readers never wait)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_locked(folder: Path) -> bool:
    """Whether a writer holds `folder`'s write lock now (a model training, an index building)."""
    return held_lock(folder.parent / f".{folder.name}.lock") is not None


def held_lock(path: Path) -> str | None:
    """What the lock file at `path` says while another process holds it (flock), or None when
    nobody does (or there is no such file)."""
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            return fh.read()
        fcntl.flock(fh, fcntl.LOCK_UN)
        return None


def replace_folder(folder: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary sibling, then swap it in, so readers never see half of it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(tmp)
        old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def library_versions() -> dict:
    """Versions of the libraries whose output the index depends on."""
    return {"faiss": faiss.__version__, "numpy": np.__version__}
