"""Builds a Kafka image without a container registry: Maven Central jars on a debootstrapped Debian.

The result, `kchaos/kafka:<version>`, is configured like `apache/kafka:<version>` (KAFKA_* variables,
CLUSTER_ID, KRaft), so the same compose files run on either. Downloads are cached under
~/.cache/kchaos (and Maven's ~/.m2), and the Debian base is kept as an image, so a rebuild takes seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kafka_chaos import engine
from kafka_chaos.errors import ClusterError, UsageError

DEFAULT_VERSION = "4.1.1"
SUPPORTED_HINT = "e.g. 3.9.1 or 4.1.1"
OFFICIAL = "apache/kafka"
LOCAL = "kchaos/kafka"
BASE = "kchaos/debian-jre:bookworm"
CACHE = Path(os.environ.get("KCHAOS_CACHE", Path.home() / ".cache" / "kchaos"))
DEBIAN_PACKAGES = "openjdk-17-jre-headless,iproute2,iptables,procps"

# Scripts in /opt/kafka/bin, named as in the Kafka distribution -> main class.
TOOLS = {
    "kafka-storage.sh": "kafka.tools.StorageTool",
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-metadata-quorum.sh": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-producer-perf-test.sh": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test.sh": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-verifiable-producer.sh": "org.apache.kafka.tools.VerifiableProducer",
    "kafka-verifiable-consumer.sh": "org.apache.kafka.tools.VerifiableConsumer",
    "kafka-console-consumer.sh": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-get-offsets.sh": "org.apache.kafka.tools.GetOffsetShell",
}
CONSOLE_PRODUCER = {3: "kafka.tools.ConsoleProducer", 4: "org.apache.kafka.tools.ConsoleProducer"}

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kchaos</groupId><artifactId>kafka-image</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
{deps}
  </dependencies>
</project>
"""


@dataclass(frozen=True)
class BuildResult:
    tag: str
    seconds: float
    steps: dict[str, str]   # step -> "cached" | "built in N s"


def major(version: str) -> int:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise UsageError(f"--kafka-version: {version!r} is not a Kafka release ({SUPPORTED_HINT})")
    return int(version.split(".")[0])


def local_tag(version: str) -> str:
    return f"{LOCAL}:{version}"


def apt_mirror() -> str:
    """The Debian mirror this machine's apt already uses (read, never written into the repo)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        text = path.read_text(errors="replace") if path.is_file() else ""
        for m in re.finditer(r"(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+)", text, re.MULTILINE):
            uri = m.group(1)
            if "security" not in uri:
                return uri
    raise ClusterError("no Debian mirror found in /etc/apt/sources.list*; cannot debootstrap the base image")


def _maven_deps(version: str) -> str:
    deps = [("org.apache.kafka", "kafka_2.13", version), ("org.apache.kafka", "kafka-tools", version)]
    if major(version) >= 4:
        deps.append(("org.apache.logging.log4j", "log4j-slf4j-impl", "2.24.3"))
    else:
        deps.append(("org.slf4j", "slf4j-reload4j", "1.7.36"))
    return "\n".join(f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
                     f"<version>{v}</version></dependency>" for g, a, v in deps)


def fetch_jars(version: str) -> tuple[Path, bool]:
    """Kafka's runtime jars from Maven Central into the cache; (folder, was it cached)."""
    libs = CACHE / f"kafka-{version}" / "libs"
    if (libs / f"kafka_2.13-{version}.jar").exists():
        return libs, True
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(POM.format(deps=_maven_deps(version)))
    tmp = work / "libs.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    proc = engine.run(["mvn", "-q", "-B", "-f", str(work / "pom.xml"), "dependency:copy-dependencies",
                       "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"], timeout=900, check=False)
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise ClusterError(f"Maven could not resolve Kafka {version} (is it a release? {SUPPORTED_HINT}): {tail}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    return libs, False


def ensure_base() -> bool:
    """The Debian + JRE 17 base image; True when it was already there."""
    if engine.image_exists(BASE):
        return True
    if os.geteuid() != 0:
        raise ClusterError("building the Debian base needs root (debootstrap); run as root once")
    rootfs = Path(tempfile.mkdtemp(prefix="kchaos-rootfs-"))
    try:
        engine.run(["debootstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}", "bookworm",
                    str(rootfs), apt_mirror()], timeout=1800)
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        engine.run(["tar", "-C", str(rootfs), "-cf", str(rootfs) + ".tar", "."], timeout=600)
        engine.run(["docker", "import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    str(rootfs) + ".tar", BASE], timeout=600)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
        Path(str(rootfs) + ".tar").unlink(missing_ok=True)
    return False


def _context(version: str, libs: Path, ctx: Path) -> None:
    files = resources.files("kafka_chaos") / "image_files"
    (ctx / "bin").mkdir()
    (ctx / "config").mkdir()
    shutil.copytree(libs, ctx / "libs")
    for name in ("log4j.properties", "log4j2.properties", "tools-log4j.properties", "tools-log4j2.properties"):
        (ctx / "config" / name).write_text((files / name).read_text())
    (ctx / "run").write_text((files / "run").read_text())
    (ctx / "bin" / "kafka-run-class.sh").write_text((files / "kafka-run-class.sh").read_text())
    tools = dict(TOOLS, **{"kafka-console-producer.sh": CONSOLE_PRODUCER[min(major(version), 4)]})
    tools["kafka-server-start.sh"] = "--server kafka.Kafka"
    for script, main in tools.items():
        (ctx / "bin" / script).write_text(f'#!/bin/bash\nexec /opt/kafka/bin/kafka-run-class.sh {main} "$@"\n')
    for path in [ctx / "run", *(ctx / "bin").iterdir()]:
        path.chmod(0o755)
    (ctx / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        "COPY libs/ /opt/kafka/libs/\nCOPY bin/ /opt/kafka/bin/\nCOPY config/ /opt/kafka/config/\n"
        "COPY run /etc/kafka/docker/run\n"
        f"ENV PATH=/opt/kafka/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin KAFKA_VERSION={version}\n"
        f'LABEL org.kchaos.kafka.version="{version}"\n'
        "WORKDIR /opt/kafka\nENTRYPOINT [\"/etc/kafka/docker/run\"]\n")


def build(version: str = DEFAULT_VERSION, force: bool = False) -> BuildResult:
    """Build (or reuse) kchaos/kafka:<version>."""
    major(version)
    engine.client()
    start, steps = time.monotonic(), {}
    tag = local_tag(version)
    if engine.image_exists(tag) and not force:
        return BuildResult(tag, 0.0, {"image": "cached"})

    t = time.monotonic()
    steps["debian base"] = "cached" if ensure_base() else f"built in {time.monotonic() - t:.0f} s"
    t = time.monotonic()
    libs, cached = fetch_jars(version)
    steps["kafka jars"] = "cached" if cached else f"downloaded in {time.monotonic() - t:.0f} s"
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kchaos-image-") as tmp:
        _context(version, libs, Path(tmp))
        engine.run(["docker", "build", "-q", "-t", tag, tmp], timeout=900,
                   env={**os.environ, "DOCKER_BUILDKIT": "0"})
    steps["image"] = f"built in {time.monotonic() - t:.0f} s"
    return BuildResult(tag, time.monotonic() - start, steps)


def resolve(version: str = DEFAULT_VERSION) -> tuple[str, str]:
    """(image, why) for a cluster: KCHAOS_KAFKA_IMAGE, else the official image if present or
    pullable, else the locally built one."""
    forced = os.environ.get("KCHAOS_KAFKA_IMAGE")
    if forced:
        return forced, "from KCHAOS_KAFKA_IMAGE"
    major(version)   # a release, never "../x" or "4.1.1;rm", before it is an image tag
    official, local = f"{OFFICIAL}:{version}", local_tag(version)
    if engine.image_exists(official):
        return official, "official image, present locally"
    if engine.try_pull(official):
        return official, "official image, pulled"
    if engine.image_exists(local):
        return local, "locally built (no registry reachable for the official image)"
    raise ClusterError(f"no Kafka image: {official} cannot be pulled and {local} is not built; "
                       f"run: kchaos image build --kafka-version {version}")
