"""Compare two commits route by route: the CPU a request of each route of the load mix costs on each.

    python -m bench.compare --base REF --base-database-url URL --head-database-url URL
                            [--seconds 2] [--rounds 4] [--population 500]

The working tree (head) against `REF` (checked out into a temporary git worktree, removed afterwards), each
served by one uvicorn worker on its own empty database, seeded and prepared as `bench.load` does. Then every
route of `bench.load`'s mix runs alone, `--rounds` times on each server for `--seconds`, the two servers
taking turns (base first in even rounds, head first in odd ones), and the server's and the local
PostgreSQL's CPU per request are summed over the rounds.

Why interleaved: on the shared two-core machine the same commit's figures moved by 15-30% from one
`bench.load` run to the next (the bare app's too), more than most changes are worth. Alternating short turns
exposes both commits to the same drift, so the ratio head/base is the figure to read; the absolute
milliseconds are context. The last line weighs the routes as the mix does.

Prints a table; exits 1 if any request of either commit failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table

from bench.http import REPO_ROOT, Server, _cli, _env, _server, _wait_ready
from bench.load import (
    LOAD_SETTINGS,
    MIX,
    Actors,
    Call,
    Phase,
    _analyze,
    _load_client,
    _measure_cpu,
    _prepare,
    closed_loop,
)

console = Console(width=150)  # tables of every route stay readable in a log, not only in a terminal

IN_FLIGHT = 4


@dataclass
class Side:
    name: str
    server: Server
    actors: Actors


@contextmanager
def _worktree(ref: str) -> Iterator[Path]:
    """`ref` checked out (detached) into a temporary directory; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as parent:
        path = Path(parent) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), ref], cwd=REPO_ROOT, check=True
        )
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO_ROOT, check=False)


async def _side(
    stack: ExitStack, name: str, root: Path, database_url: str, population: int, log: IO[str]
) -> Side:
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-compare-{name}-")))
    env = _env(
        LOAD_SETTINGS | {"INFOMEDIARY_DATA_DIR": str(data_dir), "INFOMEDIARY_DATABASE_URL": database_url},
        root,
    )
    console.print(f"{name} ({root}): seeding {population} demo customers ...")
    _cli(env, "init", root=root)
    _cli(env, "demo", "--customers", str(population), "--seed", "1", root=root)
    demo = json.loads((data_dir / "demo.json").read_text())
    served = env | {"WEB_CONCURRENCY": "1"}
    server = stack.enter_context(_server("api.app:create_app", served, log, factory=True, root=root))
    async with httpx.AsyncClient(timeout=30.0) as setup:
        await _wait_ready(setup, f"{server.base}/healthz")
        actors = await _prepare(setup, server.base, demo, 24, env=env, expire_after=3600.0, root=root)
    if database_url.startswith("postgresql"):
        _analyze(database_url)  # statistics for the prepared world, as in `bench.load`
    return Side(name, server, actors)


async def _turn(
    client: aiohttp.ClientSession,
    side: Side,
    make: Callable[[Actors, random.Random], Call],
    seconds: float,
    seed: int,
) -> Phase:
    async def run() -> Phase:
        return await closed_loop(client, side.server.base, side.actors, IN_FLIGHT, seconds, seed, make)

    return await _measure_cpu(side.server.pid, run)


async def _compare(args: argparse.Namespace, base_root: Path, log: IO[str]) -> int:
    with ExitStack() as stack:
        base = await _side(stack, "base", base_root, args.base_database_url, args.population, log)
        head = await _side(stack, "head", REPO_ROOT, args.head_database_url, args.population, log)
        table = Table(
            title=f"CPU per request (server + PostgreSQL), {args.rounds} turns of {args.seconds:.0f} s"
        )
        for column in ("route", "weight %", "base ms", "head ms", "head / base", "errors base / head"):
            table.add_column(column, justify="left" if column == "route" else "right")
        weighted = {"base": 0.0, "head": 0.0}
        failed = False
        async with _load_client() as client:
            for side in (base, head):  # warm both (imports, pools, caches) outside the measured turns
                for _, make in MIX:
                    await _turn(client, side, make, 0.3, seed=0)
            for weight, make in MIX:
                spent = {"base": 0.0, "head": 0.0}
                served = {"base": 0, "head": 0}
                errors = {"base": 0, "head": 0}
                for turn in range(args.rounds):
                    for side in (base, head) if turn % 2 == 0 else (head, base):
                        phase = await _turn(client, side, make, args.seconds, seed=turn + 1)
                        spent[side.name] += (phase.cpu_seconds or 0.0) + (phase.database_cpu_seconds or 0.0)
                        served[side.name] += phase.requests
                        errors[side.name] += phase.errors
                ms = {name: spent[name] / max(1, served[name]) * 1e3 for name in spent}
                for name in ms:
                    weighted[name] += weight * ms[name] / 100
                failed = failed or any(errors.values())
                table.add_row(
                    make(base.actors, random.Random(0)).route,
                    str(weight),
                    f"{ms['base']:.2f}",
                    f"{ms['head']:.2f}",
                    f"{ms['head'] / ms['base']:.2f}" if ms["base"] else "-",
                    f"{errors['base']} / {errors['head']}",
                )
        table.add_row(
            "the mix, weighted",
            "100",
            f"{weighted['base']:.2f}",
            f"{weighted['head']:.2f}",
            f"{weighted['head'] / weighted['base']:.2f}" if weighted["base"] else "-",
            "",
        )
        console.print(table)
        return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="The commit to compare the working tree with.")
    parser.add_argument("--base-database-url", required=True, help="An empty database for the base.")
    parser.add_argument("--head-database-url", required=True, help="Another empty database, for the head.")
    parser.add_argument("--seconds", type=float, default=2.0, help="Length of one turn.")
    parser.add_argument("--rounds", type=int, default=4, help="Turns per route and commit.")
    parser.add_argument("--population", type=int, default=500, help="Demo customers seeded on each side.")
    args = parser.parse_args(argv)
    if args.base_database_url == args.head_database_url:
        parser.error("the two sides need two databases")
    with _worktree(args.base) as base_root, tempfile.TemporaryFile("w+") as log:
        try:
            return asyncio.run(_compare(args, base_root, log))
        except Exception:
            log.seek(0)
            console.print(log.read()[-4000:])
            raise


if __name__ == "__main__":
    raise SystemExit(main())
