#!/bin/sh
# Container entrypoint: make sure key material and the schema exist, then serve on all interfaces.
# `docker run IMAGE serve` (the default) does that; any other arguments run the `infomediary` command line,
# e.g. `docker run IMAGE suppliers add acme --json`.
set -eu

if [ "${1:-serve}" = "serve" ]; then
    if [ "$#" -gt 0 ]; then shift; fi
    # Idempotent: creates keys and migrates an empty database, leaves existing ones as they are.
    infomediary init
    exec infomediary serve --host 0.0.0.0 --port 8000 --workers "${WEB_CONCURRENCY:-1}" "$@"
fi
exec infomediary "$@"
