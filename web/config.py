"""Web settings: declared once (name, default, help), read from the environment."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The checkout (or installation prefix) that holds `instance/`, resolved from this file.
CHECKOUT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = CHECKOUT_DIR / "instance"


def _bool(value: str) -> bool:
    """Read a yes/no environment value."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    """One configuration value: its name, default, documentation and parser."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'brobygger.db'}",
            "SQLAlchemy URL of the case store; PostgreSQL as postgresql+psycopg://user@host/db."),
    Setting("SECRET_KEY", None,
            "Signs session cookies and CSRF tokens. When unset, a random key is generated "
            "once and kept in INSTANCE_DIR/secret_key; set it explicitly when several "
            "processes or machines serve the same site."),
    Setting("INSTANCE_DIR", str(INSTANCE_DIR),
            "Folder for the default SQLite file and the generated secret key."),
    Setting("BABEL_DEFAULT_LOCALE", "da",
            "Language of the pages: da (Danish) or en (English); users can switch per session."),
    Setting("BABEL_DEFAULT_TIMEZONE", "Europe/Copenhagen", "Time zone in which dates are shown."),
    Setting("TOKEN_TTL", 8 * 3600, "Lifetime of an API bearer token, in seconds.", int),
    Setting("SESSION_LIFETIME", 8 * 3600,
            "Longest a login session lasts, in seconds, however busy (and the cookie's "
            "lifetime when SESSION_PERSISTENT is on).", int),
    Setting("SESSION_IDLE_TIMEOUT", 30 * 60,
            "A login session ends after this many seconds without a request.", int),
    Setting("SESSION_PERSISTENT", False,
            "Keep the login cookie when the browser closes (up to SESSION_LIFETIME); off, "
            "closing the browser logs out.", _bool),
    Setting("SESSION_COOKIE_SECURE", False,
            "Send cookies over HTTPS only (and send HSTS); set true behind a TLS proxy. "
            "Always on when matcher serve listens on an address other than localhost.", _bool),
    Setting("LOGIN_RATE_LIMIT", "10 per minute",
            "Login attempts (web form and token endpoint together) allowed per client address."),
    Setting("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes",
            "Failed logins allowed per username, from any address, before that account is "
            "refused (429) until the window has passed."),
    Setting("RATELIMIT_STORAGE_URI", "memory://",
            "Where login counters live; memory:// is per process, redis://host:6379 is shared "
            "by all processes (when it is unreachable, each process counts alone)."),
    Setting("PROXY_COUNT", 0,
            "Number of reverse proxies in front of the app whose X-Forwarded-For, -Proto and "
            "-Host headers are trusted (0 when the app faces clients directly).", int),
    Setting("CASE_DEADLINE_DAYS", "ældre=28,flygtning=28,andet=28",
            "Case-handling deadline per area, in days from receipt (Retssikkerhedsloven § 3, "
            "stk. 2): AREA=DAYS separated by commas; areas left out keep 28. Set it to the "
            "deadlines your municipality publishes; it applies to cases received from then on."),
    Setting("QUEUE_PAGE_SIZE", 50, "Cases per page of the caseworker's queue (web and API).", int),
    Setting("MATCH_TOP", 10, "How many engine suggestions are stored per note.", int),
    Setting("LEARN_FROM_DECISIONS", True,
            "Feed caseworkers' confirmations and rejections back into the engine's ranking: "
            "each process learns its own decisions as they are made, replays the stored ones "
            "when it starts, and relearns them when another process stored one "
            "(LEARNING_REFRESH_SECONDS).", _bool),
    Setting("LEARNING_REFRESH_SECONDS", 10,
            "How often, at most, a process looks whether another process stored a decision (one "
            "small query) and then relearns the stored decisions; a decision reaches every "
            "process within this time of its next request.", int),
    Setting("ENCODER_CHECK_SECONDS", 60,
            "While the fallback encoder serves because the configured tuned one is not trained "
            "and built yet (MATCHER_FALLBACK_ENCODER), how often, at most, a process looks whether "
            "it is ready; when it is, the process loads it in the background and switches.", int),
    Setting("PASSWORD_MIN_LENGTH", 12,
            "Shortest password accepted; common or easily guessed ones, only spaces and one "
            "repeated character are refused at any length.", int),
    Setting("PASSWORD_LINK_TTL", 24 * 3600,
            "How long a set-password link (new account or reset by an admin) works, in "
            "seconds; each link works once.", int),
    Setting("ARGON2_TIME_COST", 3, "argon2id iterations for password hashes.", int),
    Setting("ARGON2_MEMORY_COST", 65536, "argon2id memory for password hashes, in KiB.", int),
    Setting("RETENTION_DAYS", 365,
            "Days a closed case is kept after closing; `matcher retention run` then deletes it "
            "with its suggestions and decisions (at least 1).", int),
    Setting("DEADLINE_PAUSES_WHILE_WAITING", True,
            "While a case waits for the volunteer's answer to a question, its case-handling "
            "deadline is paused (the time waited is added to the deadline); off, the deadline "
            "runs on.", _bool),
    Setting("PUBLIC_URL", "",
            "The site's address as volunteers reach it (https://brobygger.example.dk), for the "
            "link in notification e-mails; empty, the address of the request that caused the "
            "news is used."),
    Setting("SMTP_HOST", "",
            "Mail server for notification e-mails (a case has news: a question or the "
            "answer). Empty, no e-mail is sent; the unread marker in the app still shows."),
    Setting("SMTP_PORT", 587, "Port of the mail server.", int),
    Setting("SMTP_USERNAME", "", "Login at the mail server (empty: no login)."),
    Setting("SMTP_PASSWORD", "", "Password at the mail server."),
    Setting("SMTP_STARTTLS", True,
            "Upgrade the connection with STARTTLS before logging in and sending; turn off "
            "only for a mail server on the same machine or network.", _bool),
    Setting("SMTP_FROM", "brobygger@localhost", "Sender address of notification e-mails."),
    Setting("SMTP_TIMEOUT", 10,
            "Seconds to wait for the mail server before a send counts as failed and is "
            "retried later.", int),
    Setting("INSIGHTS_MIN_COUNT", 5,
            "Smallest count the overview (Overblik), its CSV files and /api/v1/insights publish; "
            "a count from 1 to one below it is shown as \"<N\", and a selection of fewer cases "
            "is not broken down at all (at least 2).", int),
    Setting("LOG_LEVEL", "INFO", "Level of the application log (never contains note text)."),
)


class Config:
    """Every web setting, read once from the environment with the documented defaults."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        for setting in SETTINGS:
            raw = environ.get(setting.name)
            value = setting.default if raw in (None, "") else setting.parse(raw)
            setattr(self, setting.name, value)


def ensure_secret_key(config: dict) -> None:
    """Fill SECRET_KEY from INSTANCE_DIR/secret_key, creating that file the first time."""
    if config.get("SECRET_KEY"):
        return
    path = Path(config["INSTANCE_DIR"]) / "secret_key"
    # Owner only: the folder holds the key and, by default, the case store.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Written aside and linked into place: two processes starting together
        # end up with the same key, and no one reads a half-written file.
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    config["SECRET_KEY"] = path.read_text().strip()
