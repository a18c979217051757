"""The web commands of `matcher`: serve, demo, users add, db upgrade."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from web import cli, create_app, demo_history
from web import db as web_db
from web.models import Case, Organisation, User, Wish

from webhelpers import base_config


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Point the environment-built app at a temporary, empty database."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in {"DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path / "instance"),
                        "SECRET_KEY": "cli-secret", "ARGON2_TIME_COST": "1",
                        "ARGON2_MEMORY_COST": "64"}.items():
        monkeypatch.setenv(name, value)
    return url


@pytest.fixture
def test_app_factory(tmp_path, matcher, monkeypatch):
    """Make the commands build a test app (with the session's engine) on an empty database."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'cmd.db'}", matcher)
    apps = []

    def factory():
        apps.append(create_app(config))
        return apps[-1]

    monkeypatch.setattr(cli, "create_app", factory)
    yield apps
    for app in apps:
        app.extensions["db_engine"].dispose()


def _rows(url, model):
    engine = web_db.make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(model.__table__)).all()
    engine.dispose()
    return rows


def test_users_add_migrates_an_empty_database_and_creates_the_org(env):
    """`users add` reads the password from stdin and creates the organisation when new."""
    result = CliRunner().invoke(cli.users, ["add", "Anna", "--role", "volunteer", "--org",
                                            "Kirkens Korshær", "--password-stdin"],
                                input="et-langt-kodeord\n")
    assert result.exit_code == 0, result.output
    assert "Created volunteer anna in Kirkens Korshær" in result.output
    [user] = _rows(env, User)
    assert user.username == "anna" and user.password_hash.startswith("$argon2id$")
    assert [o.name for o in _rows(env, Organisation)] == ["Kirkens Korshær"]
    again = CliRunner().invoke(cli.users, ["add", "bo", "--role", "volunteer", "--org",
                                           "Kirkens Korshær", "--password-stdin"],
                               input="et-andet-kodeord\n")
    assert again.exit_code == 0 and len(_rows(env, Organisation)) == 1


@pytest.mark.parametrize("args,password,message", [
    (["x1", "--role", "volunteer"], "et-langt-kodeord", "needs --org"),
    (["x2", "--role", "caseworker", "--org", "Org"], "et-langt-kodeord", "drop --org"),
    (["x3", "--role", "admin"], "kort", "too short"),
    (["x4", "--role", "admin"], "elleve-tegn", "too short"),
    (["x5", "--role", "admin"], " " * 14, "only spaces or one character"),
    (["x6", "--role", "admin"], "z" * 20, "only spaces or one character"),
    (["x7", "--role", "admin"], "password1234", "too easy to guess"),
    (["x8", "--role", "admin"], "qwertyuiop123", "too easy to guess"),
])
def test_users_add_explains_refusals(env, args, password, message):
    """Bad input ends with exit code 1 and a plain message."""
    result = CliRunner().invoke(cli.users, ["add", *args, "--password-stdin"],
                                input=password + "\n")
    assert result.exit_code == 1 and message in result.output


def test_users_set_password_replaces_a_lost_one(env):
    """`users set-password` sets a new password under the same policy, and is audited."""
    from web.models import AuditEvent

    CliRunner().invoke(cli.users, ["add", "chef", "--role", "admin", "--password-stdin"],
                       input="et-langt-kodeord\n")
    weak = CliRunner().invoke(cli.users, ["set-password", "Chef", "--password-stdin"],
                              input="123456789012\n")
    assert weak.exit_code == 1 and "too easy to guess" in weak.output
    before = _rows(env, User)[0].password_hash
    result = CliRunner().invoke(cli.users, ["set-password", "Chef", "--password-stdin"],
                                input="blå-hus-ved-fjorden\n")
    assert result.exit_code == 0, result.output
    assert _rows(env, User)[0].password_hash != before
    assert [e.action for e in _rows(env, AuditEvent)] == ["user.create", "user.reset"]
    missing = CliRunner().invoke(cli.users, ["set-password", "nobody", "--password-stdin"],
                                 input="blå-hus-ved-fjorden\n")
    assert missing.exit_code == 1 and "no user called nobody" in missing.output


def test_users_add_rejects_an_unknown_role(env):
    """The role is one of volunteer, caseworker, admin."""
    result = CliRunner().invoke(cli.users, ["add", "x", "--role", "king", "--password-stdin"],
                                input="et-langt-kodeord\n")
    assert result.exit_code == 2


def test_users_add_creates_a_leader_who_lands_on_the_overview(test_app_factory):
    """`users add NAME --role leader` creates a leader (with or without an organisation); the
    leader logs in to the overview (Overblik) and is refused the case pages."""
    result = CliRunner().invoke(cli.users, ["add", "Boss", "--role", "leader", "--password-stdin"],
                                input="et-langt-kodeord\n")
    assert result.exit_code == 0, result.output
    assert "Created leader boss" in result.output
    side = CliRunner().invoke(cli.users, ["add", "forkvinde", "--role", "leader", "--org",
                                          "Kirkens Korshær", "--password-stdin"],
                              input="et-langt-kodeord\n")
    assert side.exit_code == 0 and "in Kirkens Korshær" in side.output
    wrong = CliRunner().invoke(cli.users, ["add", "x", "--role", "leader", "--answers-wishes",
                                           "--password-stdin"], input="et-langt-kodeord\n")
    assert wrong.exit_code == 1 and "--answers-wishes is for a caseworker" in wrong.output
    app = test_app_factory[-1]
    with app.app_context():
        store = web_db.session()
        assert store.scalar(select(User.role).where(User.username == "boss")) == "leader"
        assert store.scalar(select(User).where(User.username == "x")) is None
    client = app.test_client()
    login = client.post("/login", data={"username": "boss", "password": "et-langt-kodeord"})
    assert login.status_code == 302 and login.headers["Location"].endswith("/insights/")
    assert client.get("/insights/").status_code == 200
    assert client.get("/caseworker/queue").status_code == 403


def test_db_upgrade_and_current(env):
    """`db upgrade` brings an empty database to the head revision."""
    result = CliRunner().invoke(cli.db, ["upgrade"])
    assert result.exit_code == 0 and web_db.head_revision() in result.output
    current = CliRunner().invoke(cli.db, ["current"])
    assert current.output.count(web_db.head_revision()) == 2


def test_demo_loads_once(test_app_factory):
    """The demo creates users, organisations and matched notes; a second run does nothing."""
    first = CliRunner().invoke(cli.demo)
    assert first.exit_code == 0, first.output
    for role in ("volunteer", "caseworker", "leader", "admin"):
        assert role in first.output
    app = test_app_factory[-1]
    with app.app_context():
        store = web_db.session()
        assert store.scalar(select(User).where(User.role == "volunteer")).organisation
        every = store.scalars(select(Case)).all()
        assert all(c.suggestions for c in every)
        # The hand-written notes, one of them answered, and the generated history, marked demo.
        written = [c for c in every if not c.text.startswith("[Demo] ")]
        generated = [c for c in every if c.text.startswith("[Demo] ")]
        assert len(written) >= 3 and [c.status for c in written].count("closed") == 1
        assert len(generated) == demo_history.CASES
        assert all(c.idempotency_key.startswith("demo:") for c in generated)
        assert {"pending", "in_review", "waiting", "closed"} <= {c.status for c in generated}
        assert store.scalars(select(Wish)).all()
        assert len(store.scalars(select(Organisation)).all()) == 3
    second = CliRunner().invoke(cli.demo)
    assert second.exit_code == 0 and "already loaded" in second.output
    assert "volunteer" not in second.output


def test_serve_runs_waitress_with_the_engine_loaded(test_app_factory, monkeypatch):
    """`serve` migrates, loads the engine once and hands the app to waitress."""
    import waitress

    calls = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.append((app, kw)))
    result = CliRunner().invoke(cli.serve, ["--host", "127.0.0.1", "--port", "8123",
                                            "--threads", "3"])
    assert result.exit_code == 0, result.output
    [(app, options)] = calls
    assert options == {"host": "127.0.0.1", "port": 8123, "threads": 3, "ident": "brobygger"}
    app.config["PROXY_COUNT"] = 1
    # Behind a proxy waitress must keep X-Forwarded-* for the app's ProxyFix.
    assert cli.waitress_options(app, "127.0.0.1", 1, 1)["clear_untrusted_proxy_headers"] is False
    assert "matcher" in app.extensions
    assert web_db.current_revision(app.extensions["db_engine"]) == web_db.head_revision()


def test_serve_refuses_an_outdated_database(test_app_factory, monkeypatch):
    """A database behind the code is not served until `matcher db upgrade` runs."""
    import waitress

    from web.models import Base

    monkeypatch.setattr(waitress, "serve", lambda app, **kw: pytest.fail("served"))
    app = cli.create_app()
    Base.metadata.tables["organisations"].create(app.extensions["db_engine"])
    result = CliRunner().invoke(cli.serve, [])
    assert result.exit_code == 1 and "matcher db upgrade" in result.output
