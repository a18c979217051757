"""The matching engine, loaded once per process and held by the app.

While the configured encoder is a tuned one that is not trained and built yet, the process serves
with the fallback encoder (MATCHER_FALLBACK_ENCODER, matcher/serving.py) and looks, at most every
ENCODER_CHECK_SECONDS, whether the tuned one is ready; then it loads it in a thread of its own,
replays the stored decisions into it and swaps it in with one assignment. A request keeps the
engine it started with.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from . import db, learning

log = logging.getLogger(__name__)
_load_lock = threading.Lock()
#: While nothing new was written under the index folder, the look whether the configured encoder
#: is ready (which opens it) is made at most this often.
FULL_LOOK_SECONDS = 600


def init_app(app: Flask) -> None:
    """Adopt a ready Matcher passed as config MATCHER (tests share one per session)."""
    if app.config.get("MATCHER") is not None:
        app.extensions["matcher"] = app.config["MATCHER"]


def load(app: Flask):
    """Load the engine into `app` (once), teach it the stored decisions and return it.

    A tuned encoder that is not ready is not trained here: the fallback encoder loads instead
    (one warning says so) and `switch_when_ready` replaces it later.
    """
    if "matcher" not in app.extensions:
        with _load_lock:
            # Checked again under the lock: another thread may have loaded it meanwhile.
            if "matcher" not in app.extensions:
                from matcher import Matcher, Settings  # heavy imports, kept off the import path
                from matcher.serving import choose

                settings = Settings.from_env(**app.config.get("MATCHER_SETTINGS", {}))
                choice = choose(settings)
                if choice.is_fallback:
                    log.warning("%s", choice.note())
                matcher = Matcher.load(choice.settings)
                with app.app_context():
                    learned = learning.replay(matcher, db.session(), app)
                if learned:
                    log.info("the engine learned from %d stored decisions", learned)
                app.extensions["engine_switch"] = {
                    "settings": settings, "waiting_for": choice.configured if choice.is_fallback else None,
                    "checked": time.monotonic(), "busy": False, "lock": threading.Lock()}
                app.extensions["matcher"] = matcher
    return app.extensions["matcher"]


def waiting_for(app: Flask) -> str | None:
    """The configured encoder this process waits for while its fallback serves, or None."""
    state = app.extensions.get("engine_switch")
    return state["waiting_for"] if state else None


def switch_when_ready(app: Flask) -> threading.Thread | None:
    """While the fallback serves, look (at most every ENCODER_CHECK_SECONDS, in a thread) whether
    the configured encoder is ready, and switch to it when it is. Returns the thread it started."""
    state = app.extensions.get("engine_switch")
    if not state or state["waiting_for"] is None:
        return None
    now = time.monotonic()
    with state["lock"]:
        if state["busy"] or now - state["checked"] < app.config["ENCODER_CHECK_SECONDS"]:
            return None
        state["busy"], state["checked"] = True, now
    thread = threading.Thread(target=_switch, args=(app, state), name="engine-switch", daemon=True)
    thread.start()
    return thread


def _switch(app: Flask, state: dict) -> None:
    from matcher import Matcher
    from matcher.serving import builds_marker, pending

    settings = state["settings"]
    try:
        # Nothing swapped in since the last look: skip opening the encoder, but look in full every
        # FULL_LOOK_SECONDS all the same (a file system with coarse times can miss a change).
        marker, now = builds_marker(settings), time.monotonic()
        if marker == state.get("marker") and now - state.get("looked", 0.0) < FULL_LOOK_SECONDS:
            return
        reason = pending(settings)
        if reason is not None:
            state["marker"], state["looked"] = marker, now
            log.debug("%s is not ready yet (%s)", settings.encoder, reason)
            return
        matcher = Matcher.load(settings, rebuild=False)  # everything is there: nothing is trained or built
        with app.app_context(), learning.paused(app):
            # No relearning runs meanwhile: what the replay saw is what the counter says was seen.
            learned = learning.replay(matcher, db.session(), app)
            app.extensions["matcher"] = matcher
        state["waiting_for"] = None
        log.warning("switched the matching engine to %s (%s), which learned %d stored decisions",
                    settings.encoder, matcher.encoder.name, learned)
    except Exception:  # noqa: BLE001 - the fallback goes on serving; the next look tries again
        log.exception("switching the matching engine to %s failed", settings.encoder)
    finally:
        state["busy"] = False


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
    """Return the current app's engine, loading it on first use, relearning decisions that other
    processes stored since it last looked (at most every LEARNING_REFRESH_SECONDS) and, while the
    fallback encoder serves, looking whether the configured one is ready (switch_when_ready)."""
    app = current_app._get_current_object()
    matcher = load(app)
    switch_when_ready(app)
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
