"""Schema state: Alembic is the only way the schema is made or changed; the service refuses a stale one."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import migrations
from infomediary.errors import ServiceUnavailable

MIGRATIONS_DIR = Path(migrations.__file__).parent


class SchemaNotAtHead(ServiceUnavailable):
    slug = "schema-not-at-head"
    title = "Database schema is not at the current version"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def head_revision() -> str:
    """The revision the code expects. Read from the migration scripts once per process: they ship with the
    code and do not change under it, and loading them cost about 17 ms on every `/readyz` and app start."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine | Connection) -> str | None:
    """The database's revision, through a connection of its own or one in use (a request's session)."""
    if isinstance(engine, Connection):
        return MigrationContext.configure(engine).get_current_revision()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def require_head(engine: Engine | Connection) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotAtHead(
            f"database schema is at {current or 'nothing (empty database)'}, code expects {head}; "
            "run `infomediary db upgrade` (or `infomediary init` for the embedded default)"
        )
