"""Alembic environment: migrations run on the connection web.db hands over."""
from alembic import context
from sqlalchemy import create_engine

from web.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    # Batch mode lets the same migration alter tables on SQLite, which lacks ALTER COLUMN.
    context.configure(target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, **kwargs)


def run_migrations_offline() -> None:
    """Write SQL for the URL given with `-x url=...` instead of running it."""
    _configure(url=context.get_x_argument(as_dictionary=True)["url"], literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on the connection from web.db (or a URL given with `-x url=...`)."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
        with engine.begin() as connection:
            _configure(connection=connection)
            context.run_migrations()
        engine.dispose()
        return
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
