"""Generated demo history for the overview: months of cases, decisions, answers and wishes.

Every generated case is marked as demo data: its text starts with "[Demo]" and its
Idempotency-Key with "demo:" (the overview says so at the top). The engine matches each
template note once; the cases copy those suggestions, so loading takes seconds. A fixed seed
makes the history the same on every fresh clone, dated back from the day it is loaded.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from flask import current_app, has_app_context

from . import cases, deadlines
from .engine import redact
from .insights.metrics import DEMO_KEY_PREFIX
from .models import WISH_KINDS, Case, Decision, Message, User, Wish, utcnow

SEED = 14
DAYS = 182
CASES = 420
DEMO = "[Demo] "
#: (area, organisation, note): invented situations without names.
TEMPLATES = (
    ("ældre", "Ældre Sagen Aalborg",
     "En mand på 91 år er faldet flere gange og kan ikke længere komme op af sengen alene. "
     "Han har brug for hjælp til personlig pleje om morgenen."),
    ("ældre", "Ældre Sagen Aalborg",
     "En enke på 83 år kan ikke selv lave mad og spiser meget lidt. Hun vil gerne have mad "
     "bragt ud."),
    ("ældre", "Røde Kors Aalborg",
     "En kvinde på 88 år er meget ensom og går ikke ud. Hun har svært ved at gå og har brug "
     "for en rollator."),
    ("ældre", "Ældre Sagen Aalborg",
     "En mand på 80 år passer sin kone med demens og er udmattet. Han har brug for "
     "aflastning et par dage om ugen."),
    ("ældre", "Røde Kors Aalborg",
     "En pensionist har ikke råd til sin medicin og tandlægen efter huslejen er steget."),
    ("flygtning", "Dansk Flygtningehjælp Aalborg",
     "En familie fra Eritrea forstår ikke brevene fra kommunen og ved ikke, om de får den "
     "rigtige ydelse. De har brug for hjælp til danskundervisning."),
    ("flygtning", "Dansk Flygtningehjælp Aalborg",
     "En ung kvinde fra Ukraine vil gerne i arbejde, men ved ikke, hvordan hun får sin "
     "uddannelse godkendt. Hun mangler børnepasning."),
    ("flygtning", "Røde Kors Aalborg",
     "En far fra Syrien har fået en stor regning og kan ikke betale huslejen. Børnene har "
     "brug for hjælp til lektier."),
    ("flygtning", "Dansk Flygtningehjælp Aalborg",
     "En familie er flyttet til en lejlighed uden møbler og har ingen penge til senge og "
     "køleskab."),
    ("andet", "Røde Kors Aalborg",
     "En mand på 45 år med en hjerneskade glemmer aftaler og regninger. Han har brug for "
     "støtte til at få struktur på hverdagen."),
    ("andet", "Røde Kors Aalborg",
     "En kvinde på 52 år er blevet syg med stress, har mistet sit arbejde og ved ikke, hvad "
     "hun skal leve af."),
    ("andet", "Ældre Sagen Aalborg",
     "En mand i kørestol kan ikke komme ud af sin lejlighed, fordi der er trapper. Han har "
     "brug for en anden bolig eller en trappelift."),
)
MESSAGES = ("Tak for henvendelsen. Visitationen kontakter borgeren i denne uge.",
            "Tak. Borgeren er indkaldt til en samtale i Jobcenteret.",
            "Tak for oplysningerne. Sagen er sendt videre til Ydelsesservice.")
WISHES = (
    ("lokaler", "Vores lektiecafé mangler et lokale om tirsdagen i Aalborg Øst."),
    ("lokaler", "Vi søger et mødelokale til besøgsvennernes månedlige møde."),
    ("økonomi", "Vi søger tilskud til transport for frivillige, der kører ældre til læge."),
    ("økonomi", "Vi vil gerne søge §18-midler til en sommerudflugt for familier."),
    ("viden", "Vores frivillige vil gerne have et kursus i, hvad kommunen kan hjælpe med."),
    ("viden", "Vi ønsker en kontaktperson i Jobcenteret, vi kan ringe til med spørgsmål."),
    ("samarbejde", "Vi vil gerne samarbejde om flere besøgsvenner i Vejgaard."),
    ("samarbejde", "Vi foreslår et fast møde hvert kvartal med ældreområdet."),
    ("andet", "Vi mangler en opslagstavle på biblioteket til vores aktiviteter."),
)
QUESTIONS = (("Bor borgeren alene, og har borgeren selv givet samtykke til henvendelsen?",
              "Ja, hun bor alene og har sagt ja til, at vi skriver."),
             ("Har borgeren en sag i Jobcenteret i forvejen?",
              "Nej, ikke så vidt vi ved."))
ANSWERS = {"granted": "Ja, det kan vi.", "partly": "Delvist: vi kan hjælpe med en del af det.",
           "declined": "Det kan vi desværre ikke i år.",
           "dialogue": "Lad os tage et møde om det."}


def load_history(db: Session, matcher, caseworker: User, volunteers: dict[str, User],
                 now: datetime | None = None) -> int:
    """Store the generated cases, decisions and wishes; return the number of cases."""
    now = now or utcnow()
    rng = random.Random(SEED)
    matched = [matcher.match(redact(text), top=10) for _, _, text in TEMPLATES]
    spare = [e.id for e in matcher.corpus.rules[:40]]
    days = current_app.config["CASE_DEADLINES"] if has_app_context() else deadlines.DEFAULT_DAYS
    for i in range(CASES):
        # More cases in recent months: the service is getting known.
        age = DAYS * (1 - rng.random() ** 0.8)
        created = now - timedelta(days=age, minutes=rng.randrange(600))
        t = rng.randrange(len(TEMPLATES))
        area, organisation, text = TEMPLATES[t]
        volunteer = volunteers[organisation]
        case = Case(organisation_id=volunteer.organisation_id, created_by_id=volunteer.id,
                    text=DEMO + redact(text), area=area, consent=True, consent_at=created,
                    created_at=created, updated_at=created, status="pending",
                    due_at=deadlines.due_at(created, area, days),
                    idempotency_key=f"{DEMO_KEY_PREFIX}{i}")
        case.suggestions = [cases._suggestion(s, matcher.version) for s in matched[t]]
        for s in case.suggestions:
            s.created_at = created
        case.engine_version = matcher.version
        case.top5_shown = sum(s.rank <= 5 for s in case.suggestions)
        db.add(case)
        _review(rng, db, case, caseworker, created, now, matcher, spare)
    for _ in range(36):
        _wish(rng, db, volunteers, caseworker, now)
    db.commit()
    return CASES


def _review(rng, db, case: Case, caseworker: User, created, now, matcher, spare) -> None:
    """Decide and close the case as a caseworker would, a few days after it came in."""
    first = created + timedelta(hours=rng.expovariate(1 / 40))
    if first > now:
        return
    db.flush()
    case.first_answer_at = first
    if rng.random() < 0.25:
        # The caseworker asks first; the volunteer answers within a day or two, or not yet.
        question, reply = rng.choice(QUESTIONS)
        db.add(Message(case_id=case.id, user_id=caseworker.id, from_role="caseworker",
                       kind="question", text=DEMO + question, created_at=first))
        answered = first + timedelta(hours=rng.expovariate(1 / 20))
        if answered > now:
            case.status, case.waiting_since, case.updated_at = "waiting", first, first
            return
        db.add(Message(case_id=case.id, user_id=case.created_by_id, from_role="volunteer",
                       kind="answer", text=DEMO + reply, created_at=answered))
        case.waited_seconds = int((answered - first).total_seconds())
        # The deadline stands still while the case waits (DEADLINE_PAUSES_WHILE_WAITING).
        case.due_at += answered - first
        first = answered + timedelta(hours=rng.expovariate(1 / 10))
        if first > now:
            case.status, case.updated_at = "pending", answered
            return
    decided_at = first
    # The top suggestion is right about two times in three; lower ones sometimes too.
    for s in sorted(case.suggestions, key=lambda s: s.rank)[:5]:
        p = 0.66 if s.rank == 1 else 0.18
        if rng.random() < p:
            verdict = "confirm"
        elif s.rank <= 2 and rng.random() < 0.5:
            verdict = "reject"
        else:
            continue
        db.add(Decision(case_id=case.id, suggestion_id=s.id, decision=verdict,
                        user_id=caseworker.id, created_at=decided_at))
        s.decision = verdict
        decided_at += timedelta(minutes=rng.randrange(2, 20))
    if rng.random() < 0.2:
        # The engine missed one: the caseworker adds it from the corpus.
        entry = matcher.corpus.get(rng.choice(spare))
        if all(s.entry_id != entry.id for s in case.suggestions):
            added = cases._suggestion(entry, matcher.version, origin="caseworker")
            added.case_id, added.created_at, added.decision = case.id, decided_at, "confirm"
            db.add(added)
            db.flush()
            db.add(Decision(case_id=case.id, suggestion_id=added.id, decision="confirm",
                            user_id=caseworker.id, created_at=decided_at))
    cases.tally_engine(case)
    case.status, case.first_decision_at = "in_review", first
    closing = decided_at + timedelta(hours=rng.expovariate(1 / 70))
    if rng.random() < 0.1:
        # Some cases wait for another department for weeks: a few pass their deadline.
        closing = decided_at + timedelta(days=rng.uniform(15, 45))
    if closing < now:
        case.status, case.closed_at, case.closed_by_id = "closed", closing, caseworker.id
        case.message = DEMO + rng.choice(MESSAGES) if rng.random() < 0.85 else None
    case.updated_at = min(closing, now)


def _wish(rng, db, volunteers: dict[str, User], caseworker: User, now) -> None:
    """One organisation's wish, answered by the volunteer coordinator when older than a week."""
    kind, text = rng.choice(WISHES)
    volunteer = rng.choice(list(volunteers.values()))
    created = now - timedelta(days=DAYS * rng.random())
    wish = Wish(organisation_id=volunteer.organisation_id, created_by_id=volunteer.id,
                kind=kind if kind in WISH_KINDS else "andet", text=DEMO + text,
                created_at=created)
    if now - created > timedelta(days=7) and rng.random() < 0.8:
        wish.outcome = rng.choice(("granted", "granted", "partly", "declined", "dialogue"))
        wish.answer = DEMO + ANSWERS[wish.outcome]
        wish.answered_at = min(created + timedelta(days=rng.uniform(1, 20)), now)
        wish.answered_by_id = caseworker.id
    db.add(wish)
