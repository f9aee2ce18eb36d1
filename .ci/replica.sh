#!/usr/bin/env bash
# A second PostgreSQL cluster on port 5433, a streaming replica of 127.0.0.1:5432, for the
# read-replica test (tests/web/test_read_replica.py). Idempotent: an existing, running
# replica is left alone. Needs root (pg_createcluster) and the primary's pg_hba to accept
# replication connections from 127.0.0.1 (added here when missing).
set -euo pipefail
PG_MAJOR=${PG_MAJOR:-$(psql -h 127.0.0.1 -U postgres -Atc "SHOW server_version_num" | cut -c1-2)}
PORT=${REPLICA_PORT:-5433}
NAME=${REPLICA_NAME:-replica}

if psql -h 127.0.0.1 -p "${PORT}" -U postgres -Atc "SELECT pg_is_in_recovery()" 2>/dev/null | grep -qx t; then
  echo "replica already streaming on ${PORT}"
  exit 0
fi

HBA=$(psql -h 127.0.0.1 -U postgres -Atc "SHOW hba_file")
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "${HBA}"; then
  echo "host replication all 127.0.0.1/32 trust" >>"${HBA}"
  psql -h 127.0.0.1 -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
fi

if pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "${PG_MAJOR} ${NAME}"; then
  pg_dropcluster --stop "${PG_MAJOR}" "${NAME}"
fi
pg_createcluster "${PG_MAJOR}" "${NAME}" --port "${PORT}" >/dev/null
DATA=/var/lib/postgresql/${PG_MAJOR}/${NAME}
# The same client rules as the primary (Debian keeps them in /etc, outside the data copy).
cp "${HBA}" "/etc/postgresql/${PG_MAJOR}/${NAME}/pg_hba.conf"
rm -rf "${DATA:?}"/*
# -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby.
su postgres -c "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D '${DATA}' -R -X stream -c fast"
pg_ctlcluster "${PG_MAJOR}" "${NAME}" start
for _ in $(seq 30); do
  if psql -h 127.0.0.1 -p "${PORT}" -U postgres -Atc "SELECT pg_is_in_recovery()" 2>/dev/null | grep -qx t; then
    echo "replica streaming on ${PORT}"
    exit 0
  fi
  sleep 1
done
echo "replica on ${PORT} did not come up" >&2
exit 1
