"""The long-lived parts one process needs (settings, engine, key material, hashers), built once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from infomediary.database import (
    ReadSession,
    RequestSessions,
    WriteSession,
    create_db_engine,
    create_session_factory,
)
from infomediary.keymaterial import KeyMaterial
from infomediary.mail.transport import Transport, transport_for
from infomediary.passwords import Passwords
from infomediary.settings import Settings
from vault import DataKeyCache, Vault


@dataclass
class Runtime:
    settings: Settings
    # Writing transactions go through `engine`; reads through `read_engine`, whose connections the database
    # keeps from writing (see `infomediary.database`).
    engine: Engine
    read_engine: Engine
    session_factory: sessionmaker[WriteSession]
    read_session_factory: sessionmaker[ReadSession]
    keys: KeyMaterial
    passwords: Passwords = field(repr=False)
    # The request path's sessions, when given (tests bind them to their own connection); otherwise each app
    # opens its own on start (`open_request_sessions`) and closes them on shutdown.
    request_sessions: RequestSessions | None = field(default=None, repr=False)
    # Where mail goes (`infomediary.mail`): built from the settings on first use, unless given.
    mail_transport: Transport | None = field(default=None, repr=False)
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

    @property
    def mail(self) -> Transport:
        """The process's one mail transport: the SMTP relay, or the mail directory on the embedded default."""
        if self.mail_transport is None:
            self.mail_transport = transport_for(self.settings)
        return self.mail_transport

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        if settings.is_sqlite:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        url, busy = settings.resolved_database_url, settings.database_busy_timeout_seconds
        engine = create_db_engine(url, busy_timeout=busy)
        read_engine = create_db_engine(url, read_only=True, busy_timeout=busy)
        return cls(
            settings=settings,
            engine=engine,
            read_engine=read_engine,
            session_factory=create_session_factory(engine),
            read_session_factory=create_session_factory(read_engine, writes=False),
            keys=KeyMaterial(settings.resolved_keys_dir),
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

    def open_request_sessions(self) -> RequestSessions:
        """The request path's async session factories (asyncpg, aiosqlite), bound to the event loop that
        first uses them: the app opens them on start and closes them on shutdown."""
        if self.request_sessions is not None:
            return self.request_sessions
        settings = self.settings
        return RequestSessions.open(
            settings.resolved_database_url, busy_timeout=settings.database_busy_timeout_seconds
        )

    def close(self) -> None:
        if self.mail_transport is not None:
            self.mail_transport.close()  # mail handed over before the end is sent, not dropped
        self.engine.dispose()
        self.read_engine.dispose()
