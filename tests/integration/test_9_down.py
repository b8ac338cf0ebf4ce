"""Last: `kchaos cluster down` leaves no container, network or volume of the project behind (the cluster it
removes is the Kafka 3 one test_8 left up, or the suite's own where that test skipped)."""

import subprocess
import sys

from kafka_chaos import engine

from .conftest import COMPOSE, ROOT


def test_down_leaves_nothing_behind(cluster):
    out = subprocess.run([sys.executable, "-m", "kafka_chaos", "cluster", "down", "--compose", str(COMPOSE)],
                         cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    label = {"label": f"com.docker.compose.project={cluster.project}"}
    docker = engine.client()
    assert docker.containers.list(all=True, filters=label) == []
    assert docker.networks.list(filters=label) == []
    assert docker.volumes.list(filters=label) == []
