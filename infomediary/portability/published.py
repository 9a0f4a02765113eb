"""The export format's JSON Schema (draft 2020-12): the file `export-v2.schema.json` beside this module,
published at `SCHEMA_PATH` with its `$id` set to the address it is served from, which every export document
names in its `$schema` key."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from infomediary.settings import Settings

SCHEMA_PATH = "/v1/schemas/export-v2.json"
SCHEMA_FILE = "export-v2.schema.json"


def schema_url(settings: Settings) -> str:
    """Where the schema is published: the same address for every export of this format."""
    return settings.issuer.rstrip("/") + SCHEMA_PATH


@cache
def _stored() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def published_schema(settings: Settings) -> dict[str, Any]:
    """The schema as served: the stored file, identified by its address (the file cannot know the
    deployment's issuer, so it carries no `$id` of its own)."""
    stored: dict[str, Any] = json.loads(_stored())
    return {"$schema": stored.pop("$schema"), "$id": schema_url(settings), **stored}
