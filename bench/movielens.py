"""MovieLens 100K for the recommender evaluation: fetched from the `recbole` wheel, never committed.

`python -m bench.movielens` runs `pip download --no-deps recbole==1.2.1` into a temporary directory and
takes the two ml-100k files out of the wheel into `bench/data/ml-100k/` (git-ignored: the GroupLens
licence forbids redistribution). `ratings()` and `titles()` read them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "ml-100k"
WHEEL = "recbole==1.2.1"
MEMBERS = {
    "recbole/dataset_example/ml-100k/ml-100k.inter": "ml-100k.inter",
    "recbole/dataset_example/ml-100k/ml-100k.item": "ml-100k.item",
}


@dataclass(frozen=True)
class Rating:
    user: str
    item: str
    value: int
    timestamp: int


def present(data_dir: Path = DATA_DIR) -> bool:
    return all((data_dir / name).is_file() for name in MEMBERS.values())


def fetch(data_dir: Path = DATA_DIR) -> Path:
    """Download the wheel with pip (no dependencies) and extract the ml-100k files; idempotent."""
    if present(data_dir):
        return data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", tmp], check=True
        )
        (wheel,) = Path(tmp).glob("recbole-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for member, name in MEMBERS.items():
                (data_dir / name).write_bytes(archive.read(member))
    return data_dir


def ratings(data_dir: Path = DATA_DIR) -> list[Rating]:
    lines = (data_dir / "ml-100k.inter").read_text().splitlines()[1:]
    out = []
    for line in lines:
        user, item, value, timestamp = line.split("\t")
        out.append(Rating(user, item, int(float(value)), int(float(timestamp))))
    return out


def titles(data_dir: Path = DATA_DIR) -> dict[str, tuple[str, list[str]]]:
    """item -> (title, genres)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for line in (data_dir / "ml-100k.item").read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split("\t")
        genres = parts[3].split() if len(parts) > 3 else []
        out[parts[0]] = (parts[1][:200] or parts[0], genres)
    return out


if __name__ == "__main__":
    print(f"MovieLens 100K in {fetch()}")
