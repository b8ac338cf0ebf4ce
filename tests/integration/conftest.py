"""A real 3-broker cluster for the integration tests, started once per session from compose/kraft-3.yml.

Without a Docker engine or Kafka image the tests skip and say why; CI sets KCHAOS_REQUIRE_CLUSTER=1 so
they fail instead.
"""

import os
from pathlib import Path

import pytest

from kafka_chaos.cluster import ComposeCluster, metadata
from kafka_chaos.errors import KchaosError

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose" / "kraft-3.yml"


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def cluster():
    c = ComposeCluster(COMPOSE)
    try:
        c.up(os.environ.get("KCHAOS_KAFKA_VERSION", "4.1.1"))
        metadata.wait_ready(c, timeout=180)
    except KchaosError as exc:
        if os.environ.get("KCHAOS_REQUIRE_CLUSTER"):
            raise
        pytest.skip(f"no real cluster can start here: {exc}")
    return c


@pytest.fixture
def healthy(cluster):
    """The cluster, with every broker running and registered before and after the test."""
    for b in cluster.broker_ids:
        cluster.start(b)
    metadata.wait_ready(cluster, timeout=120)
    yield cluster
    for b in cluster.broker_ids:
        cluster.start(b)
    metadata.wait_ready(cluster, timeout=120)
