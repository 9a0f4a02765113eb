"""The long-lived parts one process needs (settings, engine, key material, hashers), built once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infomediary.customers.passwords import Passwords
from infomediary.database import create_db_engine, create_session_factory
from infomediary.keymaterial import KeyMaterial
from infomediary.settings import Settings
from vault import DataKeyCache, Vault


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_session_factory: sessionmaker[Session]
    keys: KeyMaterial
    # A request's reads (GET): see `create_session_factory(statement_reads=True)`.
    request_read_session_factory: sessionmaker[Session]
    passwords: Passwords = field(repr=False)
    _vault: Vault | None = field(default=None, repr=False)
    _vault_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def vault(self) -> Vault:
        """The one vault of this process, opened on first use (so commands that need no keys run without)."""
        if self._vault is None:
            with self._vault_lock:
                if self._vault is None:
                    cache = DataKeyCache(
                        maxsize=self.settings.vault_cache_size, ttl=self.settings.vault_cache_ttl_seconds
                    )
                    self._vault = self.keys.open_vault(cache)
        return self._vault

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        if settings.is_sqlite:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_db_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            read_session_factory=create_session_factory(engine, writes=False),
            keys=KeyMaterial(settings.resolved_keys_dir),
            request_read_session_factory=create_session_factory(engine, writes=False, statement_reads=True),
            passwords=Passwords(settings),
        )

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[Runtime]:
        """A runtime for one command-line run, closed when the run ends."""
        runtime = cls.create(settings)
        try:
            yield runtime
        finally:
            runtime.close()

    def close(self) -> None:
        self.engine.dispose()
