"""`python -m bench [NAME ...]`: run every benchmark module that exists (or only the named ones).

Benchmark modules are discovered by importing them: each exposes `main(argv: list[str] | None = None) -> int`
and is run with its default options. A module that does not exist yet is skipped; one that fails to import
counts as a failure.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable
from typing import cast

KNOWN = ("http", "vault", "consent", "log", "recommend", "load", "relay")


def main(argv: list[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or list(KNOWN)
    unknown = sorted(set(names) - set(KNOWN))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(KNOWN)}", file=sys.stderr)
        return 2
    worst = 0
    ran = 0
    for name in names:
        module_name = f"bench.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                print(f"-- bench.{name}: not written yet, skipped")
                continue
            traceback.print_exc()
            worst = max(worst, 1)
            continue
        entry = getattr(module, "main", None)
        if not callable(entry):
            print(f"-- bench.{name}: has no main(), skipped", file=sys.stderr)
            worst = max(worst, 1)
            continue
        print(f"== bench.{name}")
        # An empty list, not None: the module must not parse this command's own arguments.
        code = cast(Callable[[list[str]], int], entry)([])
        ran += 1
        worst = max(worst, code)
    if ran == 0:
        print("no benchmark ran", file=sys.stderr)
        return 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
