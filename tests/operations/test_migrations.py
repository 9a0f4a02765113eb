"""Alembic is the only way the schema is made: empty -> head on SQLite and PostgreSQL, no drift from the
models, and a service that refuses a database not at head."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from infomediary import schema
from infomediary.database import create_db_engine
from infomediary.models import Base
from tests.fixtures.databases import DEFAULT_POSTGRES_URL, fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    import os

    admin = os.environ.get("INFOMEDIARY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with fresh_postgres_database(admin) as url:
        engine = create_db_engine(url)
        yield engine
        engine.dispose()


def test_empty_to_head_then_models_match_migrations(empty_engine: Engine) -> None:
    assert schema.current_revision(empty_engine) is None
    with pytest.raises(schema.SchemaNotAtHead, match="infomediary db upgrade"):
        schema.require_head(empty_engine)
    schema.upgrade(empty_engine)
    assert schema.current_revision(empty_engine) == schema.head_revision()
    schema.require_head(empty_engine)
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert set(inspect(empty_engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


def test_downgrade_to_base_and_back(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine)
    schema.upgrade(empty_engine, "head")  # idempotent
    from alembic import command

    config = schema.alembic_config()
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert schema.current_revision(empty_engine) is None
    assert not (set(inspect(empty_engine).get_table_names()) & {t.name for t in Base.metadata.sorted_tables})
    schema.upgrade(empty_engine)
    assert schema.current_revision(empty_engine) == schema.head_revision()
