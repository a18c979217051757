"""The matching engine: a note in, ranked legal provisions and services out."""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np

from . import __version__
from . import confidence as confidence_model
from .acts import Acts, Enacted, enacted_text, load_acts
from .context import PENSION_AGE, mentions_child, stated_age
from .corpus import Corpus, Entry, Rule, load_corpus, normalise_section
from .dense_index import DenseIndex, IndexMismatch
from .encoders import Encoder, open_encoder
from .feedback import Example, Feedback
from .fusion import display_score, rrf_fusion, zscore_fusion
from .index_build import build_index, expected_manifest, index_folder, keyword_document
from .keyword_index import KeywordIndex
from .names import without_names
from .redact import redact
from .settings import Settings
from .text import MAX_SENTENCE_CHARS, sentences
from .text import clean as clean_text

log = logging.getLogger(__name__)

_MAX_SENTENCES = 12
#: The engine reads at most this much of a note (the web app accepts 5,000 characters).
MAX_NOTE_CHARS = 20_000
#: Characters of the sentences encoded per note: ordinary notes' first 12 sentences fit (the
#: evaluation's longest uses 400), a hostile note costs at most this many tokens (about one per character).
_MAX_QUERY_CHARS = 1200
#: What the sparse head reads of a whole note (one more encoder pass).
_MAX_WHOLE_NOTE_CHARS = 2 * _MAX_QUERY_CHARS
_DENSE_K = 8192  # documents per query: the whole corpus here (about 3,500); a bound for large ones
_EVIDENCE_MARGIN = 0.03
_MAX_EVIDENCE = 3
#: A sentence is quoted for an entry only when its own score for the entry stands this many standard
#: deviations above its mean score over all entries: a sentence close to no entry in particular
#: supports none (issue 13 §4; chosen on the evidence labels of eval/evidence.jsonl,
#: benchmarks/evidence_precision.py). A sentence of nothing but placeholders is never quoted (quotable).
EVIDENCE_Z = 1.0


@dataclass
class Ranking:
    """One note's ranking before suggestions are made from it (`Matcher.rank`)."""

    clean: str
    sentences: list[str]
    #: each retriever's score per entry; "_per_sentence" and "_keyword_per_sentence" are per sentence
    signals: dict
    alive: np.ndarray
    #: the fused score, before companions and age
    base: np.ndarray
    #: how far a companion lifted each entry
    lifted: np.ndarray
    #: entries pushed down for another age group or for children only
    wrong_age: np.ndarray
    age: Optional[int]
    child: bool
    #: the final fused score and its 0-1 display
    fused: np.ndarray
    shown: np.ndarray
    #: entry numbers, best first
    order: np.ndarray
    #: the sentences' query vectors (the note's vector for the confidence model is made of them)
    queries: Optional[np.ndarray] = None

    @property
    def per_sentence(self) -> np.ndarray:
        """Dense similarity per sentence and entry (the evidence's scores)."""
        return self.signals["_per_sentence"]


@dataclass
class Suggestion:
    """One ranked suggestion, shaped as `matcher match --jsonl` prints it."""

    rank: int
    kind: str
    id: str
    law: Optional[str]
    section: Optional[str]
    title: str
    score: float
    evidence: list[str]
    legal_basis: list[str] = field(default_factory=list)
    source_url: Optional[str] = None

    def to_dict(self) -> dict:
        """The JSON object of the citation contract (shared/law-codes.md)."""
        d = asdict(self)
        d.pop("source_url")
        if self.kind == "rule":
            d.pop("legal_basis")
        return d


class Matches(list):
    """The suggestions of one note (a list, best first) with the engine's verdict on them."""

    def __init__(self, suggestions: Iterable[Suggestion] = (), verdict: "confidence_model.Verdict | None" = None,
                 note_vector: np.ndarray | None = None, scores: np.ndarray | None = None) -> None:
        super().__init__(suggestions)
        self.verdict = verdict or confidence_model.UNKNOWN
        #: what the confidence model reads (matcher.confidence): the note's vector and score features
        self.note_vector = note_vector
        self.scores = scores

    @property
    def confidence(self) -> Optional[float]:
        """How likely a caseworker is to confirm the top suggestion (0-1; None without a model)."""
        return self.verdict.confidence

    @property
    def no_good_match(self) -> Optional[bool]:
        """True when the engine judges that nothing in the corpus fits the note."""
        return self.verdict.no_good_match


class Matcher:
    """Loads the corpus, encoder and indexes once; `match` is safe to call from many threads."""

    def __init__(self, settings: Settings, corpus: Corpus, encoder: Encoder, dense: DenseIndex,
                 acts: Acts | None = None) -> None:
        self.settings = settings
        self.corpus = corpus
        #: the enacted text of the cited acts (rules/acts/), shown beside the summaries
        self.acts = acts if acts is not None else Acts({})
        self.encoder = encoder
        self.dense = dense
        self.keyword = KeywordIndex([keyword_document(e) for e in corpus.entries])
        self._links = corpus_links(corpus)
        self._age_groups = age_groups(corpus)
        self.forget()
        #: the scope model and confidence calibration (matcher.confidence); None until loaded
        self.confidence: "confidence_model.ConfidenceModel | None" = None
        #: the trained re-ranker of the fused top (matcher/rerank.py), when `rerank` is on
        self.reranker = None
        #: whether the default weights match on sparse terms too (they weigh and the index has them)
        self.uses_sparse = settings.weight_sparse > 0 and dense.sparse is not None
        # kept with every stored suggestion, so decisions can be measured per engine configuration
        sparse = "+sparse" if self.uses_sparse else ""
        self.version = f"matcher-{__version__}/{encoder.name}{sparse}/{corpus.content_hash[:12]}"

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        rebuild: bool = True,
        progress: Callable[[int, int], None] | None = None,
        tune_progress: Callable[[int, int], None] | None = None,
        confidence_progress: Callable[[int, int], None] | None = None,
        rerank_progress: Callable[[int, int], None] | None = None,
    ) -> "Matcher":
        """Load corpus, encoder and the saved index; build the index when missing or stale.

        Args:
            settings: engine settings (default: from the environment).
            rebuild: build a missing or stale index (and train a missing tuned encoder); with False
                either raises IndexMismatch.
            progress: called (done, total) while documents are encoded.
            tune_progress: called (done, total) per batch while a tuned:<base> encoder trains.
            confidence_progress: called (done, total) per note while the confidence model is fitted.
            rerank_progress: called (done, total) per note while the re-ranker trains.
        Returns:
            A ready Matcher.
        """
        settings = settings or Settings.from_env()
        corpus = load_corpus(settings.rules_dir)
        acts = load_acts(settings.rules_dir / "acts")
        encoder = open_encoder(settings, corpus, progress=tune_progress, train=rebuild)
        folder = index_folder(settings, encoder)
        expect = expected_manifest(settings, corpus, encoder)
        try:
            dense = DenseIndex.load(folder, expect)
        except (FileNotFoundError, IndexMismatch) as exc:
            if not rebuild:
                if isinstance(exc, FileNotFoundError):
                    raise IndexMismatch(f"no index built in {folder}; run `matcher index build`") from None
                raise IndexMismatch(str(exc)) from None
            log.info("building the index in %s (%s)", folder, exc.__class__.__name__)
            dense = build_index(settings, corpus, encoder, progress=progress)
        matcher = cls(settings, corpus, encoder, dense, acts)
        if settings.rerank:
            matcher.load_reranker(train=rebuild, progress=rerank_progress)
        matcher.confidence = confidence_model.load_or_build(matcher, rebuild=rebuild, progress=confidence_progress)
        return matcher

    def load_reranker(self, train: bool = True, progress: Callable[[int, int], None] | None = None) -> bool:
        """Load this engine's re-ranker, training it on rules/training/ when missing (a minute or two).

        Args:
            train: train a missing re-ranker; with False a missing one leaves re-ranking to the
                per-problem order alone.
            progress: called (done, total) per training note.
        Returns:
            Whether a re-ranker is loaded.
        """
        from .rerank import load_or_train

        self.reranker = load_or_train(self, self.settings.rules_dir / "training", train=train, progress=progress)
        # decisions are measured per engine configuration: a re-ranked engine is another one
        self.version = self.version.removesuffix("+rerank") + ("+rerank" if self.reranker is not None else "")
        return self.reranker is not None

    def match(
        self,
        text: str,
        top: int | None = None,
        on: dt.date | None = None,
        weights: dict[str, float] | None = None,
        rerank: bool | None = None,
    ) -> Matches:
        """Rank corpus entries for a note.

        Args:
            text: the note; identifiers are redacted before anything else happens, and format
                characters and piled-up combining marks dropped (matcher.text.clean), so the time
                of a match is bounded whatever the note holds.
            top: how many suggestions (default: the `top` setting).
            on: the day the law is applied (default today); provisions not in force are left out.
            weights: fusion weights of 'keyword', 'keyword_sentence', 'dense', 'sentence', 'sparse',
                'prior' and 'examples' (default: the settings); a weight of 0 switches a retriever
                off, as the evaluation does.
            rerank: reorder the top of the fused ranking with the trained re-ranker and per problem
                (default: the `rerank` setting, and only with the configured weights).
        Returns:
            Suggestions, best first, each with the note's sentences that drove it; the list's
            `confidence` and `no_good_match` say how sure the engine is (matcher.confidence).
        Raises:
            ValueError: the note has no words.
        """
        ranking = self.rank(text, on=on, weights=weights, rerank=rerank)
        top = self.settings.top if top is None else top
        support = sentence_support(ranking.per_sentence, ranking.alive)
        # nothing but placeholders: never evidence
        support[[not quotable(t) for t in ranking.sentences]] = -np.inf
        out: list[Suggestion] = []
        for i in ranking.order:
            if len(out) >= top:
                break
            if not np.isfinite(ranking.fused[i]) or ranking.shown[i] < self.settings.min_score:
                continue  # re-ranked, a weaker entry can stand before a stronger one
            out.append(self._suggestion(len(out) + 1, int(i), float(ranking.shown[i]), ranking.sentences,
                                        ranking.per_sentence[:, i], support[:, i]))
        return self._judged(out, note_vector(ranking.queries),
                            confidence_model.score_features(ranking.signals, ranking.fused))

    def rank(
        self,
        text: str,
        on: dt.date | None = None,
        weights: dict[str, float] | None = None,
        rerank: bool | None = None,
    ) -> "Ranking":
        """Every entry's signals, fused score and place for a note (what `match` makes suggestions of).

        Args:
            text: the note (redacted here, as in `match`).
            on: the day the law is applied (default today).
            weights: fusion weights (default: the settings).
            rerank: apply the re-ranker and per-problem order (default: the `rerank` setting, only
                with the configured weights).
        Returns:
            The Ranking, with `order` the entries best first.
        Raises:
            ValueError: the note has no words.
        """
        clean = prepare_note(text)
        if not re.search(r"\w", clean):
            raise ValueError("the note is empty; write a few sentences about the citizen's situation")
        on = on or dt.date.today()
        sents = note_sentences(clean)
        q = self.encoder.encode_queries([without_names(s) for s in sents])

        if rerank is None:
            rerank = self.settings.rerank and weights is None
        weights = weights or self.default_weights
        signals = self._signals(clean, sents, q, sparse=weights.get("sparse", 0) > 0)
        ranking = self.fuse_signals(clean, sents, signals, on, weights)
        ranking.queries = q
        if rerank:
            self._rerank(ranking)
        return ranking

    def fuse_signals(self, clean: str, sents: list[str], signals: dict, on: dt.date,
                     weights: dict[str, float]) -> "Ranking":
        """The Ranking of a note from its retrievers' signals: fusion, companions, age (no re-ranking).

        The evaluation re-fuses stored signals with other weights through this, without encoding again.
        """
        st = self.settings
        alive = np.array([e.in_force(on) for e in self.corpus.entries])
        base = fuse(st.fusion, signals, weights, alive, st.rrf_k)
        fused = base.copy()  # the age adjustment below works in place
        if st.fusion == "zscore" and st.link_margin >= 0:
            fused = follow_links(fused, self._links, st.link_margin)
        # entries not in force are -inf before and after: their lift is 0, not nan
        lifted = np.subtract(fused, base, out=np.zeros_like(base), where=np.isfinite(base))
        age, child = stated_age(clean), mentions_child(clean)
        wrong = np.zeros(len(fused), dtype=bool)
        if st.age_aware:
            wrong = self._adjust_for_age(fused, age, child)
        return Ranking(clean=clean, sentences=sents, signals=signals, alive=alive, base=base,
                       lifted=lifted, wrong_age=wrong, age=age, child=child, fused=fused,
                       shown=display_score(fused, st.fusion), order=np.argsort(-fused, kind="stable"))

    def _judged(self, out: list[Suggestion], note_vec: np.ndarray, scores: np.ndarray) -> Matches:
        """The suggestions with the confidence model's verdict (matcher.confidence)."""
        verdict = self.confidence.judge(note_vec, scores) if self.confidence is not None and out else None
        if verdict is None and self.confidence is not None:
            verdict = confidence_model.Verdict(0.0, True, None)  # nothing was suggested at all
        return Matches(out, verdict, note_vec, scores)

    def _rerank(self, ranking: "Ranking") -> None:
        """Reorder the top of the ranking: the trained re-ranker, then one entry per problem first."""
        from .rerank import per_problem_order

        st = self.settings
        if self.reranker is not None:
            ranking.order = self.reranker.reorder(ranking, st.rerank_depth)
        if st.problem_slots > 0:
            ranking.order = per_problem_order(ranking, st.rerank_depth, st.problem_slots, st.problem_margin,
                                              self.reranker)
        # The scores shown stay the fused ones, falling with the rank: the k-th place shows the k-th
        # best fused score of the reordered head, so the first score means what it meant before.
        head = ranking.order[:st.rerank_depth]
        head = head[np.isfinite(ranking.fused[head])]
        ranking.shown = ranking.shown.copy()
        ranking.shown[head] = np.sort(ranking.shown[head])[::-1]

    def learn(self, examples: Iterable[Example]) -> int:
        """Feed caseworkers' decisions back into later matches (this process only).

        Args:
            examples: redacted texts with the entry id a caseworker confirmed or rejected.
        Returns:
            How many examples named a known entry and were used.
        """
        return self.feedback.add(examples)

    def relearn(self, examples: Iterable[Example]) -> int:
        """Replace everything learned with these decisions (oldest first), in one swap.

        Matches running meanwhile use the old feedback or the new, never a mix; another process's
        decisions reach this one this way (web/learning.py).

        Args:
            examples: every decision that stands, oldest first, with stored vectors where known.
        Returns:
            How many examples named a known entry and were used.
        """
        fresh = self._new_feedback()
        used = fresh.add(examples)
        self.feedback = fresh
        return used

    def example_vectors(self, texts: list[str]) -> np.ndarray:
        """The vectors decisions on `texts` (redacted notes) are learned with, to be stored with them.

        Args:
            texts: the redacted notes.
        Returns:
            float32 array (len(texts) x dim), valid for `self.encoder.name` only.
        """
        return self.feedback.vectors(list(texts))

    def forget(self) -> None:
        """Drop everything learned from decisions."""
        self.feedback = self._new_feedback()

    def _new_feedback(self) -> Feedback:
        return Feedback(self.encoder, self.corpus.numbers, max_examples=self.settings.feedback_examples)

    @property
    def default_weights(self) -> dict[str, float]:
        """The configured weight of each retriever."""
        s = self.settings
        return {"keyword": s.weight_keyword, "keyword_sentence": s.weight_keyword_sentence,
                "dense": s.weight_dense, "sentence": s.weight_sentence, "sparse": s.weight_sparse,
                "prior": s.weight_prior, "examples": s.weight_examples}

    def _signals(self, text: str, sents: list[str], q: np.ndarray, sparse: bool = False) -> dict[str, np.ndarray]:
        """Each retriever's score per entry (nan where a retriever did not reach an entry).

        `sparse` asks for the sparse latent terms of the whole note too, where the index has them
        (one more encoder pass, so only when they weigh).
        """
        n = len(self.corpus)
        whole = text[:_MAX_WHOLE_NOTE_CHARS]
        extra = {"sparse": self._sparse_scores(whole)} if sparse and self.dense.sparse is not None else {}
        note_vec = note_vector(q)
        # one search for every sentence and the whole note: the last row is the note
        dense = self._entry_scores(*self.dense.search(np.vstack([q, note_vec]), _DENSE_K), n)
        per_sentence = dense[:-1]
        kw_sentences = np.stack([self.keyword.scores(t) for t in sents])
        return {
            "keyword": self.keyword.scores(text),
            "keyword_sentence": kw_sentences.max(axis=0),
            "dense": dense[-1],
            "sentence": per_sentence.max(axis=0),
            **extra,
            **self.feedback.signals(note_vec),
            # evidence: dense similarity per sentence, nudged by each sentence's keyword hits
            "_per_sentence": np.nan_to_num(per_sentence, nan=-1.0) + 0.01 * (kw_sentences > 0),
            "_keyword_per_sentence": kw_sentences,
        }

    def _sparse_scores(self, text: str) -> np.ndarray:
        """Each entry's sparse latent-term overlap with the note (mean of its two best documents)."""
        note = self.encoder.encode_sparse([text])
        docs = np.asarray(self.dense.sparse[:, note.indices] @ note.data).ravel()
        order = np.argsort(-docs, kind="stable")
        return self._entry_scores(docs[order][None, :], self.dense.doc_entry[order][None, :], len(self.corpus))[0]

    def enacted(self, entry_id: str) -> Enacted | None:
        """A rule's section as its act on file words it (None for services and acts not on file).

        Args:
            entry_id: the corpus entry.
        Returns:
            The section's stk., which of them hold the rule's key terms, and the act's ELI link.
        """
        e = self.corpus.get(entry_id)
        if not isinstance(e, Rule):
            return None
        return enacted_text(self.acts, e.law, e.section, e.key_terms)

    def search(self, q: str, limit: int = 20) -> list[Entry]:
        """Find corpus entries by words, id or citation ('SEL § 83', '83 b'), for manual adding."""
        q = q.strip()
        if not q:
            return []
        key = normalise_section(q)
        exact = [
            e for e in self.corpus.entries
            if e.id == q.lower()
            or (isinstance(e, Rule) and key in {normalise_section(e.section), normalise_section(e.citation)})
        ]
        hits = [self.corpus.entries[i] for i, _ in self.keyword.retrieve(q, k=limit)]
        seen: set[str] = set()
        return [e for e in exact + hits if not (e.id in seen or seen.add(e.id))][:limit]

    @staticmethod
    def _entry_scores(scores: np.ndarray, entries: np.ndarray, n: int) -> np.ndarray:
        """Per query, each entry's mean of its two best document scores (nan where none was retrieved).

        Two documents rather than one: an entry whose situations agree twice is a safer bet
        than one odd sentence that happens to be close. An entry with only one document among
        the retrieved gets the lowest retrieved score as its second (what it can at most have).
        """
        rows = scores.shape[0]
        valid = entries >= 0
        # Group each row by entry; the stable sort keeps the search's best-first order inside a group.
        order = np.argsort(np.where(valid, entries, n), axis=1, kind="stable")
        ents = np.take_along_axis(entries, order, axis=1)
        sc = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        ok = np.take_along_axis(valid, order, axis=1)
        first = np.ones_like(ok)
        first[:, 1:] = ents[:, 1:] != ents[:, :-1]
        second = np.zeros_like(ok)
        second[:, 1:] = ~first[:, 1:] & first[:, :-1]
        row = np.broadcast_to(np.arange(rows)[:, None], ents.shape)
        best = np.full((rows, n), np.nan, dtype=np.float32)
        nxt = np.full((rows, n), np.nan, dtype=np.float32)
        best[row[first & ok], ents[first & ok]] = sc[first & ok]
        nxt[row[second & ok], ents[second & ok]] = sc[second & ok]
        lowest = np.where(valid, scores, np.inf).min(axis=1, keepdims=True).astype(np.float32)
        nxt = np.where(np.isnan(nxt) & ~np.isnan(best), lowest, nxt)
        return (best + nxt) / 2

    def _adjust_for_age(self, fused: np.ndarray, age: int | None, child: bool) -> np.ndarray:
        """Push down provisions for another age group than the note speaks of; return which.

        A stated age puts ÆL (pension age and above) and the SEL provisions below it apart;
        provisions only for children drop when the note mentions no child; a provision the law
        gives at any age but that serves one side in practice (`pension_age_usual`) drops less.
        """
        above, below, children_only, usually_above, usually_below = self._age_groups
        wrong = children_only & (not child)
        unusual = np.zeros_like(wrong)
        if age is not None:
            wrong |= below if age >= PENSION_AGE else above
            unusual = (usually_below if age >= PENSION_AGE else usually_above) & ~wrong
        if self.settings.fusion == "rrf":
            fused[wrong] *= 0.5
            fused[unusual] *= 0.75
        else:
            fused[wrong] -= self.settings.age_penalty
            fused[unusual] -= self.settings.age_usual_penalty
        return wrong

    def _suggestion(self, rank: int, i: int, score: float, sents: list[str], per_sent: np.ndarray,
                    support: np.ndarray) -> Suggestion:
        e = self.corpus.entries[i]
        picked = pick_evidence(per_sent, support, EVIDENCE_Z)
        return Suggestion(
            rank=rank,
            kind=e.kind,
            id=e.id,
            law=e.law,
            section=e.section,
            title=e.title,
            score=round(float(score), 4),
            evidence=[sents[j] for j in sorted(picked)],
            legal_basis=list(e.legal_basis),
            source_url=e.source_url,
        )


def prepare_note(text: str) -> str:
    """The note as the engine reads it: its first MAX_NOTE_CHARS, cleaned (matcher.text.clean),
    redacted and stripped. Cleaned before redaction: a zero-width space in a CPR number must not hide it."""
    return redact(clean_text(text[:MAX_NOTE_CHARS])).strip()


def note_sentences(clean: str) -> list[str]:
    """The queries of a redacted note: its first sentences within _MAX_QUERY_CHARS, or the note's
    start if it has none."""
    out: list[str] = []
    room = _MAX_QUERY_CHARS
    for sentence in sentences(clean)[:_MAX_SENTENCES]:
        if len(sentence) > room:
            cut = sentence.rfind(" ", 0, room + 1)
            sentence = sentence[:cut if cut > 0 else room].strip()
        if sentence:
            out.append(sentence)
            room -= len(sentence)
        if room <= 0:
            break
    return out or [clean[:MAX_SENTENCE_CHARS]]


def pick_evidence(per_sent: np.ndarray, support: np.ndarray, margin: float) -> list[int]:
    """The sentences quoted for an entry: its best (up to _MAX_EVIDENCE, within _EVIDENCE_MARGIN of
    the best) whose support (sentence_support) clears `margin`; in the note's order."""
    best = float(np.max(per_sent))
    return sorted(int(j) for j in np.argsort(-per_sent, kind="stable")[:_MAX_EVIDENCE]
                  if per_sent[j] >= best - _EVIDENCE_MARGIN and support[j] >= margin)


_PLACEHOLDER = re.compile(r"\[[A-ZÆØÅ]+(?: \d+)?\]")


def quotable(sentence: str) -> bool:
    """Whether a sentence says anything once the redaction's placeholders ([NAVN 1], [TELEFON]) are
    left out: a sentence of placeholders is quoted for no entry."""
    return bool(re.search(r"\w", _PLACEHOLDER.sub(" ", sentence)))


def sentence_support(per_sentence: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Each sentence's score for each entry in standard deviations above that sentence's mean over
    the entries in force (sentences x entries): how much a sentence speaks of this entry rather
    than of everything a little."""
    live = per_sentence[:, alive] if alive.any() else per_sentence
    mean = live.mean(axis=1, keepdims=True)
    std = live.std(axis=1, keepdims=True)
    return (per_sentence - mean) / np.maximum(std, 1e-6)


def note_vector(q: np.ndarray) -> np.ndarray:
    """The whole note's vector (1 x dim): the normalised mean of its sentence vectors."""
    v = q.mean(axis=0, keepdims=True)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def corpus_links(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) entry numbers: each rule to its companions.

    A service's legal basis is not followed: services cite broadly (visitation rests on
    four provisions) and lifting them all cost 0.03 Recall@5 on dev.
    """
    pairs = sorted((corpus.numbers[r.id], corpus.numbers[c]) for r in corpus.rules for c in r.companions)
    return (np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64))


def age_groups(corpus: Corpus) -> tuple[np.ndarray, ...]:
    """Per entry: for people at pension age and above, below it, for children only, and usually
    (not by law) above or below pension age."""
    applies = [getattr(e, "applies_to", None) for e in corpus.entries]

    def side(attr: str, value: str) -> np.ndarray:
        return np.array([a is not None and getattr(a, attr) == value for a in applies], dtype=bool)

    children = np.array([a is not None and a.max_age is not None and a.max_age < 18 for a in applies], dtype=bool)
    return (side("pension_age", "above"), side("pension_age", "below"), children,
            side("pension_age_usual", "above"), side("pension_age_usual", "below"))


def follow_links(fused: np.ndarray, links: tuple[np.ndarray, np.ndarray], margin: float) -> np.ndarray:
    """Lift each linked target to at least its best source's score minus `margin`.

    A caseworker who is shown plejevederlag (ÆL § 23) also weighs its amount (§ 24).
    Entries not in force (-inf) stay out.
    """
    src, dst = links
    if not len(src):
        return fused
    out = fused.copy()
    np.maximum.at(out, dst, fused[src] - margin)
    return np.where(np.isfinite(fused), out, fused)


def fuse(kind: str, signals: dict, weights: dict, alive: np.ndarray, rrf_k: int) -> np.ndarray:
    """Fuse the retrievers' signals with the configured scheme."""
    signals = {k: v for k, v in signals.items() if not k.startswith("_")}
    if kind == "rrf":
        return rrf_fusion(signals, weights, alive, k=rrf_k)
    return zscore_fusion(signals, weights, alive)
