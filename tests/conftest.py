"""Shared fixtures: one migrated database per test run (SQLite, or PostgreSQL when asked), each test inside
a transaction rolled back at its end (`tests.fixtures.transactional`), and an app served to a TestClient
(httpx) as a real client would see it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine

from api.app import create_app
from infomediary import schema
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from tests.fixtures.databases import DEFAULT_POSTGRES_URL, empty_tables, fresh_postgres_database
from tests.fixtures.mail import MailCatcher
from tests.fixtures.transactional import rolled_back, shared_connection_engine

ISSUER = "http://127.0.0.1:8000"
# Where the browser tests (tests/browser) leave their screenshots; gitignored.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=int(os.environ.get("INFOMEDIARY_FUZZ_EXAMPLES", "8")),
        help="Examples schemathesis generates per operation and caller in tests/api/test_fuzz.py "
        "(default 8, or $INFOMEDIARY_FUZZ_EXAMPLES; the full run uses 200).",
    )


# No per-example deadline: speed is measured in bench/, not timed in tests, and on two shared cores a
# property test's slow example (a cold import, a busy neighbour) failed the suite with DeadlineExceeded.
hypothesis_settings.register_profile("infomediary", deadline=None)
hypothesis_settings.load_profile("infomediary")

# Mutation testing (`mutmut run`, docs/testing.md) runs a module's tests once per mutant, under mutmut's
# tracing trampolines that make the property tests about ten times slower. There every property test runs
# MUTATION_EXAMPLES derandomized examples (a score that is the same from run to run) instead of its own count.
MUTATION_EXAMPLES = 25


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "MUTANT_UNDER_TEST" not in os.environ:  # set (maybe empty) only inside mutmut
        return
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False):
            own = getattr(test, "_hypothesis_internal_use_settings", None)
            test._hypothesis_internal_use_settings = hypothesis_settings(  # type: ignore[union-attr]
                own, max_examples=MUTATION_EXAMPLES, derandomize=True, database=None
            )


@pytest.fixture(scope="session")
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--fuzz-examples"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("INFOMEDIARY_TEST_DATABASE_URL")
    if url:
        with fresh_postgres_database(url) as fresh:
            yield fresh
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "issuer": ISSUER,
        # Cheap argon2 in tests; production defaults are RFC 9106's.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        # Every test client shares one address; the limits have their own tests (tests/api/test_hardening.py).
        "rate_limit_login": 1_000_000,
        "rate_limit_registration": 1_000_000,
        "rate_limit_token": 1_000_000,
        # Tests count tiny populations, where almost any two queries differ by fewer than k customers; the
        # differencing check has its own tests (tests/audiences/test_counts.py, tests/api/test_audiences.py).
        "audience_differencing_window": 0,
        # Tests use near-exact answers (epsilons of 100 a count) that a realistic cap would stop after a few
        # releases; the individual accounting has its own tests (tests/audiences/test_accounting.py).
        "privacy_loss_cap": 1_000_000,
        "privacy_loss_cap_max": 1_000_000,
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return make_settings(tmp_path_factory.mktemp("var"), database_url)


@pytest.fixture(scope="session")
def session_runtime(settings: Settings) -> Iterator[Runtime]:
    """The process's runtime on real engines, the database migrated to head once per run."""
    runtime = Runtime.create(settings)
    # Mail is kept in memory for the tests to read (`tests.fixtures.mail`), as a mailbox would receive it.
    runtime.mail_transport = MailCatcher()
    runtime.keys.ensure()
    schema.upgrade(runtime.engine)
    runtime.vault  # noqa: B018 - opened once, shared by every test's runtime
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def test_connections(session_runtime: Runtime) -> Iterator[Engine]:
    engine = shared_connection_engine(session_runtime)
    yield engine
    engine.dispose()


@pytest.fixture
def runtime(
    request: pytest.FixtureRequest, session_runtime: Runtime, test_connections: Engine
) -> Iterator[Runtime]:
    """The test's runtime: every session inside one transaction rolled back when the test ends
    (`tests.fixtures.transactional`), or, for a test marked `committing`, the real engines and every table
    emptied afterwards."""
    # Each test its own mailbox too, as it has its own transaction: what a test reads was sent in it.
    if request.node.get_closest_marker("committing") is None:
        with rolled_back(session_runtime, test_connections) as runtime:
            runtime.mail_transport = MailCatcher()
            yield runtime
        return
    session_runtime.mail_transport = MailCatcher()
    try:
        yield session_runtime
    finally:
        empty_tables(session_runtime.engine)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Here rather than in tests/browser/conftest.py: with several processes (pytest-xdist) only the
    # top-level conftest is loaded by the one that prints the summary.
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"browser test screenshots: {SCREENSHOTS}")


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a fresh PostgreSQL database of its own, migrated, with its own key material: for tests
    whose transactions must commit and race each other, which the suite's one rolled-back connection per
    test cannot do. Skips with the reason without PostgreSQL, and fails under CI=true."""
    admin = os.environ.get("INFOMEDIARY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with fresh_postgres_database(admin) as url:
        runtime = Runtime.create(make_settings(tmp_path / "var", url))
        runtime.keys.ensure()
        schema.upgrade(runtime.engine)
        yield runtime
        runtime.close()
