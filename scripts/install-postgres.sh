#!/usr/bin/env bash
# Makes a local PostgreSQL answer for the sink and outbox roles, idempotently: installs Debian's
# postgresql where missing, creates a cluster if there is none, starts it listening on 127.0.0.1 only
# (pg_ctlcluster, no systemd needed), and makes sure role and database kchaos exist with a password.
# Prints the DSN (it holds the password) as the only line on stdout; progress goes to stderr, so
#   dsn=$(bash scripts/install-postgres.sh)
# captures it. The password is generated once and kept in $KCHAOS_PG_PASSWORD_FILE (mode 600).
# Needs root. Safe to run again.
set -euo pipefail
cd /   # the postgres user may not enter the caller's directory (e.g. a private temporary clone)
password_file=${KCHAOS_PG_PASSWORD_FILE:-/var/lib/postgresql/kchaos.password}
say() { echo "$@" >&2; }

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  say "installing: postgresql"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=main
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {found = 1} END {exit !found}'; then
  say "creating cluster $version/$cluster"
  pg_createcluster "$version" "$cluster" >&2
fi
# Only the loopback address: the password is for this machine's runs, not for the network.
# (A drop-in in the cluster's conf.d: Debian's postgresql.conf includes it, and nothing of its own changes.)
echo "listen_addresses = '127.0.0.1'" >"/etc/postgresql/$version/$cluster/conf.d/kchaos.conf"
port=$(pg_conftool -s "$version" "$cluster" show port)

status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}')
if [ "$status" = online ]; then
  listening=$(runuser -u postgres -- psql -X -tAq -p "$port" -d postgres -c 'SHOW listen_addresses')
  if [ "$listening" != 127.0.0.1 ]; then
    say "restarting postgresql $version/$cluster to listen on 127.0.0.1 only (was: $listening)"
    pg_ctlcluster "$version" "$cluster" restart >&2
  else
    say "postgresql $version/$cluster: already running on 127.0.0.1:$port"
  fi
else
  say "starting postgresql $version/$cluster on 127.0.0.1:$port"
  pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { say "postgresql did not answer on 127.0.0.1:$port within 30 s"; exit 1; }

if [ ! -s "$password_file" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$password_file")
fi
password=$(cat "$password_file")

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
# The password goes in as a psql variable on stdin (never on a command line other users can read).
psql_admin -d postgres -v pw="$password" >&2 <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kchaos') AS missing \gset
\if :missing
  CREATE ROLE kchaos LOGIN;
\endif
ALTER ROLE kchaos LOGIN PASSWORD :'pw';
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'kchaos') AS nodb \gset
\if :nodb
  CREATE DATABASE kchaos OWNER kchaos;
\endif
SQL
say "role and database kchaos ready"
echo "postgresql://kchaos:${password}@127.0.0.1:${port}/kchaos"
