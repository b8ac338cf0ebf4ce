"""kchaos: run a Kafka workload under a fault schedule and verify what was lost, duplicated or reordered."""

__version__ = "0.1.0"
