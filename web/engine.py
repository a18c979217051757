"""The matching engine, loaded once per process and held by the app."""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from . import db, learning

log = logging.getLogger(__name__)
_load_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Adopt a ready Matcher passed as config MATCHER (tests share one per session)."""
    if app.config.get("MATCHER") is not None:
        app.extensions["matcher"] = app.config["MATCHER"]


def load(app: Flask):
    """Load the engine into `app` (once), teach it the stored decisions and return it."""
    if "matcher" not in app.extensions:
        with _load_lock:
            # Checked again under the lock: another thread may have loaded it meanwhile.
            if "matcher" not in app.extensions:
                from matcher import Matcher, Settings  # heavy imports, kept off the import path

                settings = Settings.from_env(**app.config.get("MATCHER_SETTINGS", {}))
                matcher = Matcher.load(settings)
                with app.app_context():
                    learned = learning.replay(matcher, db.session(), app)
                if learned:
                    log.info("the engine learned from %d stored decisions", learned)
                app.extensions["matcher"] = matcher
    return app.extensions["matcher"]


def load_in_background(app: Flask) -> None:
    """Start loading the engine in a thread of its own, unless it is loaded or already loading.

    A readiness check (`/healthz`) calls this: under a WSGI server that does not load the engine
    at start (`matcher serve` does), the first check starts the load and the process reports
    ready when it is done, instead of the first volunteer waiting for it.
    """
    if "matcher" in app.extensions or app.extensions.get("matcher_loading"):
        return
    app.extensions["matcher_loading"] = True

    def run() -> None:
        try:
            load(app)
        except Exception:  # noqa: BLE001 - logged; the next check tries again
            log.exception("loading the matching engine failed")
        finally:
            app.extensions["matcher_loading"] = False

    threading.Thread(target=run, name="engine-load", daemon=True).start()


def get_matcher():
    """Return the current app's engine, loading it on first use and relearning decisions that
    other processes stored since it last looked (at most every LEARNING_REFRESH_SECONDS)."""
    app = current_app._get_current_object()
    matcher = load(app)
    learning.refresh(app, matcher, db.session())
    return matcher


def redact(text: str) -> str:
    """Replace CPR numbers, phone numbers and e-mail addresses with placeholders.

    Invisible format characters go first: "120345\u200b-1234" is a CPR number to the reader.
    """
    from matcher.redact import redact as engine_redact
    from matcher.text import drop_invisible

    return engine_redact(drop_invisible(text))


def has_words(text: str, words: int | None = None) -> bool:
    """Say whether a note holds a few words (or `words` words) once invisible characters and
    stray marks are gone."""
    from matcher.text import has_words as engine_has_words

    return engine_has_words(text) if words is None else engine_has_words(text, words)
