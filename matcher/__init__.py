"""Brobygger's matching engine: from a volunteer's note to legal provisions and services.

    from matcher import Matcher
    m = Matcher.load()
    m.match("Hun er faldet to gange på badeværelset", top=10)
"""
__version__ = "0.1.0"

from .corpus import Corpus, CorpusError, load_corpus  # noqa: E402
from .engine import Matcher, Suggestion  # noqa: E402
from .feedback import Example  # noqa: E402
from .redact import redact  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = [
    "Matcher", "Example", "Suggestion", "Settings", "Corpus", "CorpusError", "load_corpus", "redact", "__version__",
]
