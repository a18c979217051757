"""A PostgreSQL schema of a benchmark's own, so a run never touches anyone's tables.

    with own_schema(url, "bench_queue") as scoped_url:
        ...  # create_app({"DATABASE_URL": scoped_url, ...}) and migrate

The schema is made fresh (an older one of that name is dropped first) and dropped afterwards
unless `keep` is set. The returned URL sets the connection's search_path to it, as the tests'
`postgres_schema_url` does.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def own_schema(url: str, schema: str, keep: bool = False) -> Iterator[str]:
    """Yield `url` scoped to a fresh schema named `schema`; drop the schema afterwards unless `keep`."""
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
