#!/usr/bin/env bash
# Installs kchaos for a newcomer or CI, idempotently: the Docker engine (Debian packages, started in
# the background), Debian's chromium (the HTML report's browser test), a virtualenv in .venv with kchaos
# and its test tools (pyproject.toml's dependencies: kafka-python, and confluent-kafka whose wheel bundles
# librdkafka), and the Kafka image (official apache/kafka if a registry is reachable, else built
# locally from Maven Central).
# Needs root for the engine and the image's Debian base. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${KCHAOS_KAFKA_VERSION:-4.1.1}

bash scripts/install-docker.sh
need=()
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v chromium >/dev/null || need+=(chromium)   # the headless browser that tests the HTML report
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
if docker image inspect "apache/kafka:$version" >/dev/null 2>&1 || docker pull -q "apache/kafka:$version" >/dev/null 2>&1; then
  echo "kafka image: apache/kafka:$version"
else
  echo "kafka image: no registry reachable; building kchaos/kafka:$version from Maven Central"
  .venv/bin/kchaos image build --kafka-version "$version"
fi
echo "installed: .venv/bin/kchaos $(.venv/bin/kchaos --version)"
