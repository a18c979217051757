"""Demo data for `matcher demo`: organisations, one user per role, a few matched notes and a
generated history of marked demo cases for the overview (demo_history.py)."""
from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import cases, messages
from .accounts import create_user, get_or_create_organisation
from .demo_history import load_history
from .models import User

ORGANISATIONS = ("Røde Kors Aalborg", "Ældre Sagen Aalborg", "Dansk Flygtningehjælp Aalborg")
USERS = (("frivillig", "volunteer", "Røde Kors Aalborg"),
         ("koordinator", "coordinator", "Røde Kors Aalborg"),
         ("sagsbehandler", "caseworker", None),
         ("ledelse", "leader", None),
         ("admin", "admin", None))
#: Volunteers in whose names the generated history was submitted; they cannot log in.
HISTORY_VOLUNTEERS = (("demo.aeldresagen", "Ældre Sagen Aalborg"),
                      ("demo.flygtningehjaelp", "Dansk Flygtningehjælp Aalborg"))
# Invented people, without names (volunteers are asked to leave names out);
# the phone number shows the redaction at work.
NOTES = (
    ("ældre",
     "Jeg er besøgsven hos en kvinde på 87 år, som bor alene i en lejlighed i Vejgaard. "
     "Hun er faldet to gange på badeværelset den seneste måned og tør ikke gå i bad alene. "
     "Hun kan ikke længere selv lave varm mad, så hun spiser mest rugbrød. "
     "Datteren bor i Aarhus og kan kun komme hver anden weekend. "
     "Hun vil gerne blive boende hjemme. Datteren kan kontaktes på 22 33 44 55.",
     "Vi vil gerne samarbejde med kommunen om flere besøgsvenner i Vejgaard."),
    ("flygtning",
     "En familie fra Syrien med tre børn er lige flyttet til Aalborg Øst. "
     "Faren har svært ved dansk og forstår ikke brevene fra kommunen. "
     "De har fået en stor regning for el og ved ikke, hvordan de skal betale den. "
     "Moren har ondt i tænderne, men de har ikke råd til tandlæge. "
     "De vil gerne have hjælp til at komme i gang med danskundervisning.",
     "Vores lektiecafé mangler et lokale om tirsdagen."),
    ("andet",
     "En mand på 45 år har en hjerneskade efter en trafikulykke og bor alene. "
     "Han har svært ved at holde styr på regninger og post og glemmer aftaler hos lægen. "
     "Han er blevet meget ensom og kommer næsten ikke ud. "
     "Han har brug for en, der kan hjælpe ham med at få struktur på hverdagen.",
     None),
    ("ældre",
     "Min nabo på 79 år passer sin mand, der er alvorligt syg af kræft og ønsker at dø hjemme. "
     "Hun er udmattet og sover dårligt om natten. "
     "Hun har svært ved at få råd til medicin og de ekstra udgifter. "
     "Hun har brug for aflastning og nogen at tale med.",
     None),
)
QUESTION = "Bor familien i en almen bolig? Og må vi ringe til faren med en tolk?"
CLOSING_MESSAGE = ("Tak for henvendelsen. Visitationen kontakter borgeren i denne uge om hjælp "
                   "til bad og om madservice.")


def is_loaded(db: Session) -> bool:
    """Say whether the database already has users (the demo then stays out)."""
    return db.scalar(select(User.id).limit(1)) is not None


def load_demo(db: Session, get_matcher: Callable) -> list[tuple[str, str, str | None, str]]:
    """Create the demo; return (username, role, organisation, password) for each user."""
    # The engine loads first: the slow and fallible step happens before any write.
    matcher = get_matcher()
    for name in ORGANISATIONS:
        get_or_create_organisation(db, name)
    created, users = [], {}
    for username, role, organisation in USERS:
        password = secrets.token_urlsafe(12)
        users[role] = create_user(db, username, role, password, organisation)
        created.append((username, role, organisation, password))
    # The demo's caseworker is also the municipality's volunteer coordinator (answers wishes).
    users["caseworker"].answers_wishes = True
    volunteers = {"Røde Kors Aalborg": users["volunteer"]}
    for username, organisation in HISTORY_VOLUNTEERS:
        volunteers[organisation] = create_user(db, username, "volunteer", None, organisation)
    db.commit()
    load_history(db, matcher, users["caseworker"], volunteers)
    top = current_app.config["MATCH_TOP"]
    submitted = [cases.submit_note(db, matcher, users["volunteer"], text, area, True, wishes,
                                   top=top) for area, text, wishes in NOTES]
    # One case goes all the way round, so "Mine sager" shows an answer from the start.
    first = submitted[0]
    best = cases.top_suggestion(first)
    if best is not None:
        cases.decide(db, matcher, first, users["caseworker"], best.entry_id, "confirm")
    cases.close(db, first, users["caseworker"], CLOSING_MESSAGE)
    # And one waits for the volunteer's answer to a question.
    messages.post(db, submitted[1], users["caseworker"], QUESTION)
    return created
