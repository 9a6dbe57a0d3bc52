"""Where the catalog lives, how it is opened, and how its schema is kept current.

Location, first match wins: an explicit path or SQLAlchemy URL (``--catalog``), then
``PANTRY_DATABASE_URL`` (any SQLAlchemy URL), then ``$PANTRY_HOME/catalog.db``, then
``catalog.db`` in the platform's user data folder (platformdirs).

SQLite catalogs run in WAL mode with a busy timeout, so a reader never blocks a scan and two
writers queue instead of failing. Write transactions start with ``BEGIN IMMEDIATE``: a
deferred transaction that later needs the write lock fails at once under WAL, without waiting.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pantry.catalog import jsontext
from pantry.errors import CatalogError

# The Alembic environment lives at the project root (``migrations/``), beside the package;
# pantry is installed from its checkout (pip install -e), so the folder is always there.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
CATALOG_FILENAME = "catalog.db"
BUSY_TIMEOUT_MS = 60_000
WRITE = {"pantry_write": True}  # execution option: start the transaction with BEGIN IMMEDIATE


def resolve_url(path_or_url: str | os.PathLike | None = None) -> str:
    """The SQLAlchemy URL of the catalog to open (see the module docstring for the order)."""
    if path_or_url is not None:
        text = os.fspath(path_or_url)
        return text if "://" in text else _sqlite_url(Path(text))
    if url := os.environ.get("PANTRY_DATABASE_URL"):
        return url
    if home := os.environ.get("PANTRY_HOME"):
        return _sqlite_url(Path(home) / CATALOG_FILENAME)
    import platformdirs

    return _sqlite_url(Path(platformdirs.user_data_dir("pantry")) / CATALOG_FILENAME)


def describe(url: str) -> str:
    """The catalog as a user would name it: the file path for SQLite, the URL (no password) else."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:  # not a URL at all: shown as given, make_engine says why
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(url, json_serializer=jsontext.dumps)
    except (SQLAlchemyError, ImportError) as error:  # unknown dialect, driver not installed
        raise CatalogError(f"{describe(url)}: cannot open this database URL: {error}") from None
    # A "file:..." URI database (uri=true) names its own path; never create folders for it.
    is_uri = parsed.database and parsed.database.startswith("file:")
    if parsed.database and parsed.database != ":memory:" and not is_uri:
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogError(
                f"{parsed.database}: cannot create the catalog folder: {error.strerror or error}"
            ) from None
    engine = create_engine(
        url, json_serializer=jsontext.dumps, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with errors_as_catalog_error(engine), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (revision before, revision after).

    The check and the migration run under the write lock, so two processes opening a new
    catalog at once migrate it once.
    """
    config = _alembic_config()
    target = ScriptDirectory.from_config(config).get_revision(revision).revision
    with errors_as_catalog_error(engine):
        before = current_revision(engine)
        if before == target:
            return before, target
        with engine.connect() as conn:
            conn.execution_options(**WRITE)
            with conn.begin():
                before = MigrationContext.configure(conn).get_current_revision()
                if before != target:
                    config.attributes["connection"] = conn
                    command.upgrade(config, revision)
        return before, target


@contextmanager
def errors_as_catalog_error(engine_or_url: Engine | str) -> Iterator[None]:
    """Turn database failures into one-line CatalogErrors naming the catalog."""
    try:
        yield
    except CatalogError:
        raise
    except SQLAlchemyError as error:
        url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
        raise CatalogError(f"{describe(url)}: {explain(error)}") from error


def explain(error: SQLAlchemyError) -> str:
    """A user's reading of a database error."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip().splitlines()[0]
    lowered = text.lower()
    if "disk is full" in lowered or "disk full" in lowered:
        return "the disk is full; free some space and run the command again"
    if "readonly" in lowered or "read-only" in lowered:
        return "the catalog is read-only; check the permissions of the file and its folder"
    if "unable to open database file" in lowered:
        return "cannot open the catalog file; check that its folder exists and is writable"
    if "database is locked" in lowered:
        return "the catalog is busy (another pantry is writing to it); try again"
    return text


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().absolute()}"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Leave BEGIN to the "begin" listener below instead of pysqlite's implicit transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _use_wal(cursor) -> None:
    # WAL is a property of the file, set once. Switching to it takes a lock that SQLite does
    # not wait for (no busy handler), so when two processes create a catalog at once, retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn) -> None:
    conn.exec_driver_sql(
        "BEGIN IMMEDIATE" if conn.get_execution_options().get("pantry_write") else "BEGIN"
    )
