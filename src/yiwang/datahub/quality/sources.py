"""Soda data sources: DuckDB on a snapshot's in-memory connection, PostgreSQL from the platform's database settings.

Only this module knows how to reach an engine; contracts name a dataset as `<data source>/<prefix…>/<table>`.
To run the same contracts on Spark or Trino, build the soda-spark / soda-trino data source here (its YAML:
`type: spark|trino`, `name`, `connection: {...}`) and give `Target` that data source's prefix.
"""

from __future__ import annotations

from contextlib import contextmanager

import yaml
from django.conf import settings
from django.db import connections

from .contracts import Target

DUCKDB_NAME = "duckdb"
POSTGRES_NAME = "pg"


def duckdb_connect():
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


def duckdb_source(con):
    from soda_duckdb import DuckDBDataSource

    return DuckDBDataSource.from_existing_cursor(con, name=DUCKDB_NAME)


def duckdb_target(table: str) -> Target:
    return Target(prefix=f"{DUCKDB_NAME}/main", table=table)


def is_postgres(alias: str = "default") -> bool:
    return connections[alias].vendor == "postgresql"


def postgres_params(alias: str = "default") -> dict:
    db = settings.DATABASES[alias]
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "database": db["NAME"],
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }


# The quality engine's PostgreSQL sessions. Its joins pair a table with a smaller one on computed keys (a reference
# column, the other source of a consistency rule), whose matches PostgreSQL cannot estimate: it chose a merge join
# with two external sorts (6.2 s for 10 million rows against 100,000) where a hash join of the smaller side takes
# 1.9 s. 16 MB of work memory holds that side's hash table; more made the sorts of 10 million values slower on the
# 2-core machine (a distinct count 4.2 s at 16 MB, 6.4 s at 64 MB: hash aggregates spilling instead of sorting).
SESSION_OPTIONS = "-c work_mem=16MB -c enable_mergejoin=off"


def postgres_source_yaml(params: dict) -> str:
    connection = {**params, "options": SESSION_OPTIONS}  # Soda passes unknown keys on to psycopg.connect
    return yaml.safe_dump({"type": "postgres", "name": POSTGRES_NAME, "connection": connection})


def postgres_target(
    table: str, *, database: str, schema: str = "public", key_column: str = "record_key"
) -> Target:
    return Target(
        prefix=f"{POSTGRES_NAME}/{database}/{schema}", table=table, schema=schema, key_column=key_column
    )


@contextmanager
def postgres_connection(params: dict):
    """A separate psycopg connection (autocommit) for sampling failed rows, with the engine's SESSION_OPTIONS."""
    import psycopg

    con = psycopg.connect(
        host=params["host"],
        port=params["port"],
        dbname=params["database"],
        user=params["user"],
        password=params["password"] or None,
        options=SESSION_OPTIONS,
        autocommit=True,
    )
    try:
        yield con
    finally:
        con.close()
