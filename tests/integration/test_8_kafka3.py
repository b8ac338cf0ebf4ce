"""The same compose file runs a Kafka 3.x image too (users test the version they run)."""

import os

import pytest

from kafka_chaos import engine, image
from kafka_chaos.cluster import ComposeCluster, metadata

from .conftest import COMPOSE

VERSION = "3.9.1"


def test_kraft_cluster_of_kafka_3_comes_up_and_serves_writes(cluster, monkeypatch):
    tag = image.local_tag(VERSION)
    if not engine.image_exists(tag) and not engine.image_exists(f"{image.OFFICIAL}:{VERSION}"):
        if os.environ.get("KCHAOS_REQUIRE_CLUSTER"):
            pytest.fail(f"no Kafka {VERSION} image: .ci/run builds {tag}")
        pytest.skip(f"no Kafka {VERSION} image here (kchaos image build --kafka-version {VERSION})")
    cluster.down()
    three = ComposeCluster(COMPOSE)
    # the 3.x cluster stays up: test_9 (the last) removes it with `kchaos cluster down`
    used = three.up(VERSION)
    assert VERSION in used
    metadata.wait_ready(three, timeout=180)   # every broker registered, RF=3 write and read back
    if "kchaos/" in used:
        assert three.exec(1, ["printenv", "KAFKA_VERSION"]).strip() == VERSION
