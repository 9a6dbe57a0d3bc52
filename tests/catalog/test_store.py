"""The catalog's database: location, migrations, and clear errors when it cannot be written."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event

from pantry.catalog import Catalog, store
from pantry.catalog.models import Base
from pantry.errors import CatalogError
from tests.catalog.helpers import write_unique


def test_location_comes_from_pantry_home(tmp_path, monkeypatch):
    monkeypatch.delenv("PANTRY_DATABASE_URL", raising=False)
    monkeypatch.setenv("PANTRY_HOME", str(tmp_path / "home"))
    with Catalog.open() as catalog:
        assert catalog.location == str(tmp_path / "home" / "catalog.db")
    assert (tmp_path / "home" / "catalog.db").is_file()


def test_database_url_wins_over_pantry_home_and_path_wins_over_both(tmp_path, monkeypatch):
    monkeypatch.setenv("PANTRY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PANTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'url.db'}")
    assert store.resolve_url() == f"sqlite:///{tmp_path / 'url.db'}"
    assert store.resolve_url(tmp_path / "explicit.db") == f"sqlite:///{tmp_path / 'explicit.db'}"


def test_sqlite_catalog_uses_wal_and_a_busy_timeout(catalog):
    with catalog._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000


def test_new_catalog_is_at_the_newest_revision(catalog):
    assert catalog.revision() == store.head_revision() == "0002"


def test_migrations_create_exactly_the_models_tables(catalog):
    with catalog._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_catalog_made_by_the_first_migration_upgrades_with_its_data(tmp_path, models):
    path = tmp_path / "old.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO assets (path, name, size, mtime_ns, device, inode, format, status,"
            " kind, base, search_text, identity, header_metadata, warnings, overrides,"
            " first_seen, last_seen) VALUES ('/m/old.safetensors', 'old', 10, 1, 1, 1,"
            " 'safetensors', 'ok', 'lora', 'sd1', 'old', '{\"kind\": \"lora\", \"base\": \"sd1\"}',"
            " '{}', '[]', '{\"lineage\": \"pony\"}', 0, 0)"
        )
        conn.exec_driver_sql("INSERT INTO asset_tags (asset_id, tag) VALUES (1, 'anime')")
    engine.dispose()

    with Catalog.open(path) as catalog:
        assert catalog.revision() == "0002"
        asset = catalog.resolve("old")
        assert (asset.kind, asset.base, asset.tags) == ("lora", "sd1", ["anime"])
        assert asset.identity.lineage == "pony"
        assert catalog.record_render("x = 1", 1, [asset], None) == 1


def test_two_opens_of_a_new_catalog_migrate_it_once(tmp_path):
    with Catalog.open(tmp_path / "c.db"), Catalog.open(tmp_path / "c.db") as second:
        assert second.revision() == "0002"


def test_catalog_where_no_folder_can_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(CatalogError, match="a_file"):
        Catalog.open(blocker / "catalog.db")


def test_read_only_catalog_is_a_clear_error(tmp_path, models):
    write_unique(models, "kohya_sd15_lora")
    Catalog.open(tmp_path / "c.db").close()
    read_only = f"sqlite:///file:{tmp_path / 'c.db'}?mode=ro&uri=true"
    with Catalog.open(read_only) as catalog, pytest.raises(CatalogError, match="read-only"):
        catalog.scan([models])


def test_full_disk_is_a_clear_error(catalog, models):
    # SQLite's max_page_count makes the database report a real SQLITE_FULL when it must grow.
    for i in range(30):
        write_unique(models, "kohya_sd15_lora", f"lora_{i}.safetensors")

    @event.listens_for(catalog._engine, "connect")
    def cap_size(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    catalog._engine.dispose()  # reconnect with the cap
    with pytest.raises(CatalogError) as caught:
        catalog.scan([models])
    message = str(caught.value)
    assert "disk is full" in message and catalog.location in message
    assert "\n" not in message


def test_other_database_urls_are_accepted(tmp_path):
    # Any SQLAlchemy URL works; here an in-memory SQLite, which has no file to name.
    engine = create_engine("sqlite://")
    store.upgrade(engine)
    assert store.current_revision(engine) == "0002"
