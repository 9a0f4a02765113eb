# syntax=docker/dockerfile:1
# Infomediary API image: a builder stage makes wheels of the project and its dependencies and installs them
# into a virtualenv; the runtime stage copies only that virtualenv onto python:3.11-slim.
#
#   docker build -t infomediary .
#   docker run -p 8000:8000 -v infomediary-data:/data infomediary
#
# Production: set INFOMEDIARY_DATABASE_URL (PostgreSQL) and INFOMEDIARY_ISSUER (the public base URL).

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# Compilers only for a dependency without a wheel for this platform; they never reach the runtime stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, from the metadata alone, so that a code change does not rebuild them.
COPY pyproject.toml README.md ./
RUN python -m pip install --upgrade pip setuptools wheel \
    && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && python -m pip wheel --wheel-dir /wheels -r /tmp/requirements.txt
COPY api ./api
COPY infomediary ./infomediary
COPY consent ./consent
COPY vault ./vault
COPY migrations ./migrations
# The project's own wheel carries the migrations package (versions and script.py.mako) that `init` runs.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m pip install --no-index --find-links /wheels infomediary \
    && infomediary --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="infomediary" \
      org.opencontainers.image.description="A privacy-first infomediary between customers and suppliers" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INFOMEDIARY_DATA_DIR=/data
RUN groupadd --system --gid 10001 infomediary \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin infomediary \
    && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# /healthz is liveness only (no database); slim has no curl, so Python's urllib does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["serve"]
