#!/usr/bin/env bash
# The CI gate of docs/ci.md: run the gate scenario against the application's own producer.properties and
# leave kchaos's exit code as the job's (0 pass, 1 an expectation violated, 2 invalid settings, 3 incomplete).
# Writes $KCHAOS_OUT/kchaos.xml (JUnit) and $KCHAOS_OUT/summary.md (the pull-request comment).
# Extra arguments go to `kchaos run` (e.g. --keep-cluster).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${KCHAOS_OUT:-kchaos-out}
mkdir -p "$out"
"${KCHAOS:-kchaos}" run "$here/kafka-settings-gate.yaml" --runs "$out/runs" \
    --junit "$out/kchaos.xml" --markdown "$out/summary.md" --json "$out/report.json" "$@"
