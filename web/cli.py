"""Command line: serve, demo, users add, db upgrade, retention run, notifications send, case export|delete.

Added to `matcher` by matcher/cli.py.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import waitress
from sqlalchemy import select

from . import audit, engine, notify, privacy
from . import create_app as build_app
from . import db as database
from .accounts import ASSIGNABLE_ROLES, AccountError, create_user, normalise_username, set_password
from .demo import is_loaded, load_demo
from .models import User

ACCOUNT_ERRORS = {
    "bad_username": "usernames use lower-case letters, digits and . _ @ - (2 to 80 characters)",
    "bad_role": "unknown role",
    "organisation_required": "a volunteer or coordinator needs --org",
    "organisation_not_allowed": "only volunteers, coordinators and leaders belong to an organisation; drop --org",
    "bad_email": "--email must be an e-mail address like name@example.dk",
    "password_too_short": "the password is too short (see PASSWORD_MIN_LENGTH)",
    "password_trivial": "the password is only spaces or one character repeated; choose another",
    "password_common": "the password is too easy to guess; four random words work well",
    "username_taken": "a user with that name exists already",
}


#: Addresses that only this machine can reach; anything else gets Secure cookies.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def create_app():
    """Build the app from the environment (tests replace this function)."""
    return build_app()


def ensure_schema(app) -> None:
    """Migrate an empty database; refuse to run on one older than the code."""
    state = database.upgrade_if_empty(app.extensions["db_engine"])
    if state == "created":
        click.echo("Created the database schema.", err=True)
    elif state == "outdated":
        raise click.ClickException(
            "the database schema is not at this version's revision; run `matcher db upgrade`")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int,
              help="Worker threads of this process.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web application with waitress (never Flask's development server)."""
    app = create_app()
    ensure_schema(app)
    click.echo("Loading the matching engine ...", err=True)
    engine.load(app)
    if host not in LOCAL_HOSTS and not app.config["SESSION_COOKIE_SECURE"]:
        # Reachable from other machines: the session cookie must never travel in clear.
        app.config["SESSION_COOKIE_SECURE"] = True
        click.echo(f"{host} is not localhost: cookies are sent over HTTPS only "
                   "(SESSION_COOKIE_SECURE).", err=True)
    waiting = engine.waiting_for(app)
    if waiting:  # the log line before says why
        click.echo(f"Matching with {app.extensions['matcher'].encoder.name} until {waiting} is trained and "
                   "built; the app switches to it then.", err=True)
    click.echo(f"Serving Brobygger on http://{host}:{port}/", err=True)
    waitress.serve(app, **waitress_options(app, host, port, threads))


def waitress_options(app, host: str, port: int, threads: int) -> dict:
    """The arguments `serve` gives waitress (a test starts a real server with them)."""
    options = {"host": host, "port": port, "threads": threads, "ident": "brobygger"}
    if app.config["PROXY_COUNT"]:
        # waitress removes X-Forwarded-* by default; the app's ProxyFix trusts exactly
        # PROXY_COUNT hops of them, so waitress must pass them on.
        options["clear_untrusted_proxy_headers"] = False
    return options


@click.command()
def demo() -> None:
    """Create the database and load demo organisations, users and matched notes (once)."""
    app = create_app()
    ensure_schema(app)
    with app.app_context():
        if is_loaded(database.session()):
            click.echo("The demo is already loaded (the database has users); nothing to do.")
            return
        created = load_demo(database.session(), lambda: engine.load(app))
    click.echo("Demo loaded. These passwords are shown only now:")
    for username, role, organisation, password in created:
        where = f" ({organisation})" if organisation else ""
        click.echo(f"  {role:<11} {username:<14} {password}{where}")


@click.group()
def users() -> None:
    """Manage users."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ASSIGNABLE_ROLES))
@click.option("--org", default=None,
              help="The volunteer's or coordinator's organisation (created when new).")
@click.option("--email", default=None,
              help="Where the user is told that a case has news (volunteers; optional).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.option("--answers-wishes", is_flag=True,
              help="A caseworker who is the volunteer coordinator: answers organisations' wishes.")
def add_user(name: str, role: str, org: str | None, email: str | None, password_stdin: bool,
             answers_wishes: bool) -> None:
    """Create a user NAME with a role (and organisation, for a volunteer or coordinator; a
    leader may have one)."""
    if answers_wishes and role != "caseworker":
        raise click.ClickException("--answers-wishes is for a caseworker")
    password = _read_password(password_stdin)
    app = create_app()
    ensure_schema(app)
    with app.app_context():
        store = database.session()
        try:
            user = create_user(store, name, role, password, org, email)
        except AccountError as exc:
            raise click.ClickException(ACCOUNT_ERRORS.get(exc.code, exc.code)) from None
        if answers_wishes:
            user.answers_wishes = True
        audit.record(store, None, "user.create", user.username)
        store.commit()
    click.echo(f"Created {role} {user.username}" + (f" in {org}" if org else "") + ".")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def set_user_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password (e.g. a lost admin password); its sessions and tokens end."""
    password = _read_password(password_stdin)
    app = create_app()
    ensure_schema(app)
    with app.app_context():
        store = database.session()
        user = store.scalar(select(User).where(User.username == normalise_username(name)))
        if user is None:
            raise click.ClickException(f"no user called {normalise_username(name)}")
        try:
            set_password(store, user, password)
        except AccountError as exc:
            raise click.ClickException(ACCOUNT_ERRORS.get(exc.code, exc.code)) from None
        audit.record(store, None, "user.reset", user.username)
        store.commit()
    click.echo(f"Set the password of {user.username}; its sessions and tokens have ended.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def db() -> None:
    """Manage the case store's schema."""


@db.command("upgrade")
def upgrade() -> None:
    """Apply all pending Alembic migrations."""
    db_engine = create_app().extensions["db_engine"]
    before = database.current_revision(db_engine)
    database.upgrade(db_engine)
    after = database.current_revision(db_engine)
    change = "" if before == after else f" (was {before})"
    click.echo(f"Database at revision {after}{change}.")


@db.command("current")
def current() -> None:
    """Show the revision the database is at and the newest one shipped."""
    db_engine = create_app().extensions["db_engine"]
    click.echo(f"database: {database.current_revision(db_engine)}; "
               f"code: {database.head_revision()}")


@click.group()
def retention() -> None:
    """Delete closed cases once their retention period (RETENTION_DAYS) has passed."""


@retention.command("run")
@click.option("--days", type=int, default=None,
              help="Retention period in days (default: RETENTION_DAYS, 365).")
@click.option("--dry-run", is_flag=True, help="Only list the cases that would be deleted.")
def retention_run(days: int | None, dry_run: bool) -> None:
    """Delete every case closed more than the retention period ago, and say what went."""
    app = create_app()
    ensure_schema(app)
    days = app.config["RETENTION_DAYS"] if days is None else days
    if days < 1:
        raise click.ClickException(f"the retention period must be at least 1 day, not {days}; "
                                   "fix --days or RETENTION_DAYS")
    with app.app_context():
        report = privacy.run_retention(database.session(), days, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    cutoff = report.cutoff.isoformat(timespec="seconds")
    click.echo(f"{verb} {len(report.cases)} case(s) closed before {cutoff} "
               f"(retention {days} days).")
    for item in report.cases:
        click.echo(f"  {item.reference}: {item.suggestions} suggestion(s), "
                   f"{item.decisions} decision(s), {item.audit_events_reduced} audit event(s) "
                   "reduced to the reference")


@click.group()
def notifications() -> None:
    """The e-mails that tell volunteers a case has news (the outbox)."""


@notifications.command("send")
def notifications_send() -> None:
    """Send the e-mails still waiting in the outbox (after a mail server outage; run from cron)."""
    app = create_app()
    ensure_schema(app)
    if not app.config["SMTP_HOST"]:
        raise click.ClickException("SMTP_HOST is not set: there is no mail server to send to")
    with app.app_context():
        sent, failed = notify.send_pending(database.session(), app.config)
    click.echo(f"Sent {sent} notification(s); {failed} failed and stay in the outbox.")
    if failed:
        raise SystemExit(1)


@click.group()
def case() -> None:
    """Answer a data subject's request: export or delete everything stored about one case."""


def _not_found(reference: str):
    raise click.ClickException(f"no case has the reference {reference!r}; check it against "
                               "the receipt (e.g. 7KQ2-XM9D-A4TR-0JHW)")


@case.command("export")
@click.argument("reference")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (created readable by you only) instead of stdout.")
def case_export(reference: str, output: Path | None) -> None:
    """Write everything stored about case REFERENCE as JSON (the export is audited)."""
    app = create_app()
    ensure_schema(app)
    with app.app_context():
        try:
            record = privacy.export_case(database.session(), None, reference)
        except privacy.CaseNotFound:
            _not_found(reference)
    data = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    click.echo(f"Wrote the export of {record['case']['reference']} to {output}.", err=True)


@case.command("delete")
@click.argument("reference")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def case_delete(reference: str, yes: bool) -> None:
    """Delete case REFERENCE with its suggestions and decisions (recorded in the audit log)."""
    app = create_app()
    ensure_schema(app)
    with app.app_context():
        store = database.session()
        try:
            found = privacy.find_case(store, reference)
        except privacy.CaseNotFound:
            _not_found(reference)
        if not yes:
            click.confirm(f"Delete case {found.public_id} and everything stored about it? "
                          "This cannot be undone", abort=True)
        removed = privacy.delete_case(store, None, found.public_id)
    click.echo(f"Deleted case {removed.reference}: {removed.suggestions} suggestion(s), "
               f"{removed.decisions} decision(s); {removed.audit_events_reduced} audit event(s) "
               "reduced to the reference.")
