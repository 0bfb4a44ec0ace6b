#!/usr/bin/env bash
# One command for the side-by-side benchmark (src/bench/README.md): installs the peers if they are
# missing (Debian: nginx-light + libnginx-mod-nchan via apt, and postgresql + curl for the cluster
# runs; npm ws from peers/node's lock file),
# builds the jars if they are missing, then runs
#   java -jar src/bench/target/regcast-bench.jar compare "$@"
# and the single-node ingest benchmark (scenario 5): durable accepted events/s into one registry,
# then spread over 10 registries:
#   java -jar src/bench/target/regcast-bench.jar ingest
#   java -jar src/bench/target/regcast-bench.jar ingest --registries 10
# and then the cluster runs on a 3-node PostgreSQL cluster that each starts and stops itself with
# cluster-config/local-cluster.sh (nodes and PostgreSQL on core 0, the benchmark on core 1):
#   java -jar src/bench/target/regcast-bench.jar ingest --cluster 3                  (scenario 5)
#   java -jar src/bench/target/regcast-bench.jar ingest --cluster 3 --registries 10
#   java -jar src/bench/target/regcast-bench.jar compare --cluster 3                 (scenario 6)
# Set SKIP_INGEST=1 to skip the ingest runs, SKIP_CLUSTER=1 to skip the cluster runs. Arguments go
# to compare (e.g. --quick, --out FILE; the cluster compare writes FILE.cluster.md). With --quick
# the cluster runs shrink too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -f /usr/lib/nginx/modules/ngx_nchan_module.so ] || missing+=(libnginx-mod-nchan)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
if [ "${SKIP_CLUSTER:-0}" != 1 ]; then
  # cluster-config/local-cluster.sh: a throwaway PostgreSQL (initdb/pg_ctl) and curl for /ready
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
fi
if ((${#missing[@]})); then
  echo "apt: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! command -v npm >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm
fi
[ -d src/bench/peers/node/node_modules/ws ] ||
  npm ci --prefix src/bench/peers/node --no-audit --no-fund --loglevel=error

if [ ! -f engine/target/regcast.jar ] || [ ! -f src/bench/target/regcast-bench.jar ]; then
  mvn -B -q -DskipTests package
fi

echo "git $(git rev-parse HEAD 2>/dev/null || echo '?'), $(uptime)"
# The compare arguments the cluster compare takes too (--quick, --out FILE → FILE.cluster.md).
quick=()
cluster_out=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --quick) quick=(--quick) ;;
    --out) cluster_out=(--out "${args[i + 1]}.cluster.md") ;;
  esac
done
# A tiny ingest for --quick (the defaults take minutes).
quick_ingest=()
if ((${#quick[@]})); then
  quick_ingest=(--events 2000 --warmup-events 1000 --warmup-seconds 3 --seconds 3 --latency-warmup-seconds 2 --rounds 1)
fi

status=0
java -jar src/bench/target/regcast-bench.jar compare "$@" || status=$?
if [ "${SKIP_INGEST:-0}" != 1 ]; then
  java -jar src/bench/target/regcast-bench.jar ingest "${quick_ingest[@]}" || status=$?
  java -jar src/bench/target/regcast-bench.jar ingest --registries 10 "${quick_ingest[@]}" || status=$?
fi
if [ "${SKIP_CLUSTER:-0}" != 1 ]; then
  if [ "${SKIP_INGEST:-0}" != 1 ]; then
    java -jar src/bench/target/regcast-bench.jar ingest --cluster 3 "${quick_ingest[@]}" || status=$?
    java -jar src/bench/target/regcast-bench.jar ingest --cluster 3 --registries 10 "${quick_ingest[@]}" || status=$?
  fi
  java -jar src/bench/target/regcast-bench.jar compare --cluster 3 "${quick[@]}" "${cluster_out[@]}" || status=$?
fi
exit "$status"
