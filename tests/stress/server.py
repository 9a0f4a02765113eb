"""A real `infomediary serve` in a subprocess (uvicorn), started, killed with SIGKILL and restarted.

The server runs in its own session (process group), so `kill()` takes uvicorn's supervisor and every worker
down at once, the way a power cut or the OOM killer would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from infomediary.cli import app; app()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, database_url: str | None, port: int, **settings: str) -> dict[str, str]:
    """The child's environment: none of the caller's INFOMEDIARY_* settings, exactly the ones given here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMEDIARY_")}
    env.update(
        {
            "INFOMEDIARY_DATA_DIR": str(data_dir),
            "INFOMEDIARY_ISSUER": f"http://127.0.0.1:{port}",
            "INFOMEDIARY_ARGON2_TIME_COST": "1",
            "INFOMEDIARY_ARGON2_MEMORY_KIB": "1024",
            "INFOMEDIARY_ARGON2_PARALLELISM": "1",
            "INFOMEDIARY_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["INFOMEDIARY_DATABASE_URL"] = database_url
    env.update({f"INFOMEDIARY_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `infomediary ARGS` as an operator would; raises with the output when it fails."""
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"infomediary {' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return done


def cli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(cli(env, *args).stdout)


class Server:
    def __init__(self, env: dict[str, str], port: int, log_path: Path, workers: int = 1) -> None:
        self.env = env
        self.port = port
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 60) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*CLI, *args], env=self.env, cwd=REPO_ROOT, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not become ready within {timeout} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown handler, no flush, no goodbye."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None
