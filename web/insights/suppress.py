"""Small-number suppression: a count below the threshold is published as the string "<k".

Every number the overview publishes (page, CSV, JSON) passes through these functions; the raw
counts never leave `metrics.py`. Zero is published as 0: it names no one. A share is published
only when its whole, its part and the rest are published as numbers; a duration only when the
count it rests on is.
"""
from __future__ import annotations

Published = int | str


def count(n: int, k: int) -> Published:
    """Return `n`, or "<k" when 0 < n < k."""
    n = int(n or 0)
    return f"<{k}" if 0 < n < k else n


def share(part: int, whole: int, k: int) -> float | None:
    """Return part / whole rounded to 3 places, or None when the share would give away a count
    below k: the whole, the part or the rest (whole - part: 9 of 10 tells that 1 was not)."""
    part, whole = int(part or 0), int(whole or 0)
    if whole < k or 0 < part < k or 0 < whole - part < k:
        return None
    return round(part / whole, 3)


def measure(value: float | None, basis: int, k: int, digits: int = 1) -> float | None:
    """Return a statistic (a median, a percentile) only when `basis` cases (>= k) stand behind it."""
    if value is None or int(basis or 0) < k:
        return None
    return round(float(value), digits)


def is_suppressed(value: Published) -> bool:
    """Say whether a published count is the "<k" string."""
    return isinstance(value, str)
