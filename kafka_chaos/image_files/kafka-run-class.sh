#!/bin/bash
# Runs a Kafka main class on the image's jars (a small stand-in for the distribution's script).
# Tools get a small heap and fast start-up; the broker's heap comes from KAFKA_HEAP_OPTS.
if [ "${1:-}" = "--server" ]; then
  shift
  heap=${KAFKA_HEAP_OPTS:--Xmx1g}
  config=/opt/kafka/config/
  jvm=${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true}
else
  heap=${KAFKA_TOOL_HEAP_OPTS:--Xmx256m}
  jvm="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true"
  config=/opt/kafka/config/tools-
fi
logging=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:${config}log4j.properties -Dlog4j2.configurationFile=${config}log4j2.properties}
# shellcheck disable=SC2086
exec java $heap $jvm $logging ${KAFKA_OPTS:-} -cp "/opt/kafka/libs/*" "$@"
