#!/usr/bin/env bash
# One PEARL learner step, ND4J (PearlLearner.step) against PyTorch (bench/learner/pearl_step.py), interleaved.
#   bench/learner/learner-bench.sh --out target/learner-bench/result.json [--threads 1] [--torch-dtypes float64,float32] ...
# Runs io.metastream.bench.LearnerBench the way bin/metastream runs the CLI (same JVM flags, natives
# cache, flink-jobs classpath); --help lists the options. Builds with Maven when the classes are missing.
# Debian's PyTorch lives in /usr/bin/python3 (sudo apt-get install -y python3-torch); pass --python
# /usr/bin/python3 when another python3 comes first on PATH.
set -euo pipefail

HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CP_FILE="$HOME_DIR/flink-jobs/target/classpath.txt"
CP_PROVIDED="$HOME_DIR/flink-jobs/target/classpath-provided.txt"
CLASSES="$HOME_DIR/flink-jobs/target/classes"

if [[ ! -f "$CP_FILE" || ! -f "$CP_PROVIDED" || ! -f "$CLASSES/io/metastream/bench/LearnerBench.class" ]]; then
  echo "learner-bench: building with Maven ..." >&2
  (cd "$HOME_DIR" && mvn -B -q package -DskipTests) >&2
fi

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# as bin/metastream: one OpenMP thread at start-up (LearnerBench then applies --threads to ND4J and torch)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
JAVA_OPTS="${METASTREAM_JAVA_OPTS:--Xmx3g}"
mkdir -p "$HOME_DIR/target"
exec "$JAVA" $JAVA_OPTS \
  -Dorg.bytedeco.javacpp.cachedir="$HOME_DIR/.javacpp-cache" \
  -Dorg.bytedeco.javacpp.maxphysicalbytes=6g \
  -Dlog4j2.configurationFile=log4j2-metastream-cli.xml \
  -Dmetastream.log.file="$HOME_DIR/target/learner-bench.log" \
  -Dmetastream.home="$HOME_DIR" \
  -cp "$CLASSES:$(cat "$CP_FILE"):$(cat "$CP_PROVIDED")" io.metastream.bench.LearnerBench "$@"
