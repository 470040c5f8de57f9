# certdesk over HTTP: gunicorn around Bolt on $PORT (default 3000); GET /healthz answers ok.
#
#   docker build -t certdesk .
#   docker run -p 3000:3000 -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET \
#              -v certdesk-state:/var/lib/certdesk certdesk
#
# or everything (Redis, PostgreSQL) with `docker compose up` (compose.yaml).
#
# What is where in the image:
#   /app/seeds, /app/data   the documents and the curated data, copied in
#   /app/.certdesk/index    the index, built from them while the image is built
#   /var/lib/certdesk       state, when CERTDESK_DB is not a postgresql:// URL: the question log
#                           (SQLite), its user-id salt, the de-dup record used without Redis.
#                           Mount a volume here: the container's own disk is thrown away.
#                           (With a postgresql:// CERTDESK_DB all three are in the database.)
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# An unprivileged user, owning only what certdesk writes: the index (rebuilt in place should it
# ever be damaged) and the state directory. A named volume mounted on /var/lib/certdesk starts
# with this directory's owner, so the user can write to it.
RUN groupadd --system --gid 10001 certdesk \
 && useradd --system --uid 10001 --gid certdesk --home-dir /var/lib/certdesk --no-create-home \
            --shell /usr/sbin/nologin certdesk \
 && mkdir -p /app/.certdesk/index /var/lib/certdesk \
 && chown certdesk:certdesk /app/.certdesk /app/.certdesk/index /var/lib/certdesk \
 && chmod 0700 /var/lib/certdesk

# The dependencies first, from the generated requirements.txt (a layer kept until it changes),
# then certdesk itself, installed as a package: the source is not kept in the image.
WORKDIR /tmp/src
COPY requirements.txt ./
RUN sed '/^\.$/d' requirements.txt > dependencies.txt \
 && pip install -r dependencies.txt
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY index/ index/
COPY bench/ bench/
RUN pip install --no-deps . \
 && cd / && rm -rf /tmp/src

WORKDIR /app
COPY seeds/ seeds/
COPY data/ data/
COPY deploy/ deploy/

ENV CERTDESK_SEEDS_DIR=/app/seeds \
    CERTDESK_DATA_DIR=/app/data \
    CERTDESK_INDEX_DIR=/app/.certdesk/index \
    CERTDESK_DB=/var/lib/certdesk/certdesk.sqlite3 \
    PORT=3000

USER certdesk

# The index, built now and checked complete; broken data/ fails the build with file and line.
# `certdesk serve` finds it fresh and starts on it without rebuilding.
RUN python /app/deploy/build_index.py

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]

# Exec form: gunicorn is PID 1 and gets docker stop's SIGTERM (a graceful stop). `certdesk
# serve` reads PORT itself, so no shell is needed to expand it.
CMD ["certdesk", "serve", "--http"]
