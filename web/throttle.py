"""Login throttling: per client address and per account, one count for the form and the API.

Counters live in RATELIMIT_STORAGE_URI (Redis shares them between all processes). When
that store cannot be reached, logins go on with per-process counters, a warning is
logged and /healthz says the store is degraded; the store is tried again after a while.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time

from flask import Flask, current_app
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
#: After a failure the shared store is left alone this long (seconds), then tried again.
RETRY_AFTER = 30.0
_PREFIX = "brobygger-login"


class LoginThrottle:
    """Counts login attempts in a shared store, falling back to this process's memory."""

    def __init__(self, uri: str, per_address: str, per_account: str):
        self.per_address, self.per_account = parse(per_address), parse(per_account)
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared = None
        if not uri.startswith("memory://"):
            # Short timeouts: a store that does not answer must not hold up a login.
            options = {"socket_connect_timeout": 1, "socket_timeout": 1} \
                if uri.startswith(("redis", "rediss", "valkey")) else {}
            self._shared = MovingWindowRateLimiter(storage_from_string(uri, **options))
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def _run(self, method: str, *args) -> bool:
        """Call hit/test on the shared store, or on memory when it is down."""
        if self._shared is not None and not self._resting():
            try:
                result = getattr(self._shared, method)(*args)
            except Exception as exc:  # noqa: BLE001 - any store failure means: fall back
                self._failed(exc)
            else:
                self._failed_at = None
                return result
        return getattr(self._memory, method)(*args)

    def _resting(self) -> bool:
        return self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
        if first:
            log.warning("rate-limit store unreachable (%s); counting login attempts per "
                        "process until it answers again", type(exc).__name__)

    @staticmethod
    def _account(username: str) -> str:
        # A digest: people sometimes type their password into the username field.
        return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]

    def admit(self, address: str | None, username: str | None) -> bool:
        """Count an attempt from `address`; say whether it and `username` may try now."""
        if not self._run("hit", self.per_address, _PREFIX, "address", address or "-"):
            return False
        return not username or self._run("test", self.per_account, _PREFIX, "account",
                                         self._account(username))

    def failed(self, username: str) -> None:
        """Count a failed attempt against the account `username`, from wherever it came."""
        self._run("hit", self.per_account, _PREFIX, "account", self._account(username))

    def status(self) -> str:
        """'ok' (shared store answers), 'degraded' (it does not) or 'per-process' (memory://)."""
        if self._shared is None:
            return "per-process"
        try:
            healthy = self._shared.storage.check()
        except Exception:  # noqa: BLE001 - any failure means not healthy
            healthy = False
        return "ok" if healthy else "degraded"


def init_app(app: Flask) -> None:
    """Give the app its own throttle (apps never share counters in memory)."""
    app.extensions["login_throttle"] = LoginThrottle(
        app.config["RATELIMIT_STORAGE_URI"], app.config["LOGIN_RATE_LIMIT"],
        app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def throttle() -> LoginThrottle:
    """Return this app's login throttle."""
    return current_app.extensions["login_throttle"]
