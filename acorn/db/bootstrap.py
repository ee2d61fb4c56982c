"""Create the PostgreSQL roles and database ACORN needs (idempotent).

``python -m acorn.db.bootstrap`` connects as a superuser
(ACORN_DB_SUPERUSER_URL, default the local ``postgres`` over trust auth)
and makes sure that:
- the owner role (DATABASE_OWNER_URL's user) exists, may log in and create
  databases (the test runner creates its own), and owns the database;
- the application role (DATABASE_URL's user) exists, may log in, and is not
  superuser, cannot create databases or roles, and has no BYPASSRLS.
"""

from __future__ import annotations

import sys

import dj_database_url
import psycopg
from psycopg import sql

from acorn.env import env

DEFAULT_SUPERUSER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _ensure_role(cursor, name: str, password: str | None, attributes: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    statement = sql.SQL("{} ROLE {} " + attributes).format(sql.SQL(verb), sql.Identifier(name))
    cursor.execute(statement)
    if password:
        cursor.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
        )


def bootstrap(*, app_url: str, owner_url: str, superuser_url: str) -> None:
    app = dj_database_url.parse(app_url)
    owner = dj_database_url.parse(owner_url)
    if app["USER"] == owner["USER"]:
        raise SystemExit("DATABASE_URL and DATABASE_OWNER_URL must use different roles.")
    with psycopg.connect(superuser_url, autocommit=True) as connection:
        with connection.cursor() as cursor:
            _ensure_role(
                cursor,
                owner["USER"],
                owner.get("PASSWORD"),
                "LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOBYPASSRLS",
            )
            _ensure_role(
                cursor,
                app["USER"],
                app.get("PASSWORD"),
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT",
            )
            for database in {app["NAME"], owner["NAME"]}:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
                if not cursor.fetchone():
                    cursor.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(database), sql.Identifier(owner["USER"])
                        )
                    )
    print(f"PostgreSQL roles ready: owner={owner['USER']} app={app['USER']}")


def main() -> None:
    # Runs before Django is set up (no settings module), so it reads its
    # three URLs itself, through the one environment reader.
    app_url = env("DATABASE_URL", "postgres://acorn_app@127.0.0.1:5432/acorn")
    owner_url = env("DATABASE_OWNER_URL", "postgres://acorn_owner@127.0.0.1:5432/acorn")
    superuser_url = env("ACORN_DB_SUPERUSER_URL", DEFAULT_SUPERUSER_URL)
    if not app_url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL is not PostgreSQL; no roles to create.")
        return
    bootstrap(app_url=app_url, owner_url=owner_url, superuser_url=superuser_url)


if __name__ == "__main__":
    sys.exit(main())
