"""Password policy: one check for every place a password is chosen (web pages and CLI)."""
from __future__ import annotations

from functools import cache

#: zxcvbn scores 0-4; 0 and 1 mean fewer than a million guesses (a common password,
#: a keyboard walk, a sequence, a dictionary word with digits, the username).
MIN_SCORE = 2
#: zxcvbn's time grows with length; the first 64 characters decide.
_SCORED_LENGTH = 64


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords of public leaks, lower-cased.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, min_length: int, username: str | None = None) -> str | None:
    """Return why `password` is refused (an AccountError code), or None when it is good."""
    if len(password) < min_length:
        return "password_too_short"
    core = password.replace(" ", "")
    # Only spaces, one repeated character, or a short unit repeated ("abcabcabcabc").
    if not core or any(core == core[:n] * (len(core) // n) for n in (1, 2, 3)
                       if len(core) % n == 0):
        return "password_trivial"
    if password.strip().lower() in _common_passwords():
        return "password_common"
    from zxcvbn import zxcvbn  # imported on first use: it loads its word lists

    inputs = [username] if username else []
    if zxcvbn(password[:_SCORED_LENGTH], user_inputs=inputs)["score"] < MIN_SCORE:
        return "password_common"
    return None
