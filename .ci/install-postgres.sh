#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the integration tests, which start their
# own throwaway server (tests/integration/conftest.py finds initdb/pg_ctl on PATH or under
# /usr/lib/postgresql/*/bin). Idempotent: does nothing when they are already there.
# Runs as root (CI); the package's own cluster is not used by the tests.
set -euo pipefail

if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "install-postgres: $(ls -d /usr/lib/postgresql/*/bin | head -n1) already present"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y postgresql
ls -d /usr/lib/postgresql/*/bin
