#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, idempotently: installs Debian's docker.io,
# docker-compose, debootstrap, iptables and Maven where missing, then starts dockerd in the
# background if no engine answers. Needs root. Safe to run again.
set -euo pipefail
log=${KCHAOS_DOCKERD_LOG:-/var/log/kchaos-dockerd.log}

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v iptables >/dev/null || need+=(iptables)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if docker info >/dev/null 2>&1; then
  echo "docker engine: already running"
  exit 0
fi
echo "starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine: up"
    exit 0
  fi
  sleep 1
done
echo "docker engine did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
