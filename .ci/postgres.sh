#!/usr/bin/env bash
# A PostgreSQL server for the tests (the PostgreSQL storage backend, api/src/storage/postgres.rs):
# installs it from Debian's packages if missing, starts the cluster, makes a role and a
# database for the tests, and exports CHANLAB_TEST_DATABASE_URL (also printed).
#
#   source .ci/postgres.sh     # what .ci/run does; then `cargo test` finds the server
#   bash .ci/postgres.sh       # local use: prints the export line to copy
#
# Each test makes its own schema in that database and drops it, so tests run in parallel.
# Needs root (or passwordless sudo) the first time, to install and start the server.
set -euo pipefail

pg_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    pg_as_root apt-get update -qq
    pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed major version; its cluster "main" (the Debian package makes one;
# a machine without it gets one).
pg_version="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$pg_version main"; then
    pg_as_root pg_createcluster "$pg_version" main >/dev/null
fi
pg_port="$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $3}')"
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_as_root pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
    sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$pg_port"

pg_psql() { pg_as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qAtX -p $pg_port $*"; }
# The tests' role (it creates a schema per test) and database; password auth over TCP, as a
# deployment would use.
if [ "$(pg_psql "-c \"SELECT 1 FROM pg_roles WHERE rolname = 'chanlab'\"")" != 1 ]; then
    pg_psql "-c \"CREATE ROLE chanlab LOGIN CREATEDB PASSWORD 'chanlab'\""
fi
if [ "$(pg_psql "-c \"SELECT 1 FROM pg_database WHERE datname = 'chanlab_test'\"")" != 1 ]; then
    pg_psql "-c \"CREATE DATABASE chanlab_test OWNER chanlab\""
fi

export CHANLAB_TEST_DATABASE_URL="postgres://chanlab:chanlab@127.0.0.1:${pg_port}/chanlab_test"
echo "PostgreSQL $pg_version ready: export CHANLAB_TEST_DATABASE_URL=$CHANLAB_TEST_DATABASE_URL"
