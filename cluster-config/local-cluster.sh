#!/usr/bin/env bash
# A local regcast cluster on this machine: a throwaway PostgreSQL and N nodes (default 3) running
# cluster-config/postgres-cluster.conf on free loopback ports.
#
#   local-cluster.sh start [N]   PostgreSQL + N nodes; waits until all are Up and ready, prints URLs
#   local-cluster.sh stop        SIGTERM to the recorded node PIDs (SIGKILL after 30 s), then PostgreSQL
#   local-cluster.sh status      each node's PID, /ready, and the members it sees
#   local-cluster.sh pg-start    only PostgreSQL: initdb once, start, role + database + schema
#   local-cluster.sh pg-stop     stop PostgreSQL (fast shutdown)
#   local-cluster.sh pg-status
#
# Environment:
#   REGCAST_CLUSTER_DIR  state directory (default ${TMPDIR:-/tmp}/regcast-local-cluster)
#   REGCAST_JAR          the fat jar (default engine/target/regcast.jar of this checkout)
#   REGCAST_PG_PORT      PostgreSQL's port (default: the one recorded in the state dir, else a free one)
#   REGCAST_JAVA_OPTS    JVM options of the nodes (default: small heap, fast start)
#   REGCAST_CPU_LIST     if set, `taskset -c LIST` pins the nodes and PostgreSQL (its server and every
#                        backend it forks) to these CPUs, e.g. 0; the benchmark keeps its clients apart
#
# PostgreSQL is Debian's `postgresql` package (initdb/pg_ctl under /usr/lib/postgresql/*/bin). As
# root, initdb and postgres run as the `postgres` user (they refuse to run as root), so the state
# directory must be reachable by that user; the database listens on 127.0.0.1 only, with trust
# authentication (it is a throwaway: fsync off) and no Unix socket. The end-to-end tests use the
# pg-* commands to run their own PostgreSQL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DIR=${REGCAST_CLUSTER_DIR:-${TMPDIR:-/tmp}/regcast-local-cluster}
JAR=${REGCAST_JAR:-$ROOT/engine/target/regcast.jar}
JAVA_OPTS=${REGCAST_JAVA_OPTS:--Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
PG_DIR=$DIR/pg
PGDATA=$PG_DIR/data
DB_USER=regcast
DB_PASSWORD=regcast
DB_NAME=regcast
READY_DEADLINE=${REGCAST_READY_DEADLINE:-180}
# The command prefix that pins a server process (empty: no pinning).
PIN=()
if [ -n "${REGCAST_CPU_LIST:-}" ]; then
  command -v taskset >/dev/null 2>&1 || { echo "local-cluster: REGCAST_CPU_LIST needs taskset (util-linux)" >&2; exit 1; }
  PIN=(taskset -c "$REGCAST_CPU_LIST")
fi

die() { echo "local-cluster: $*" >&2; exit 1; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/$1" ]; then
    echo "$dir/$1"
  elif command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    die "$1 not found: install PostgreSQL (apt-get install -y --no-install-recommends postgresql)"
  fi
}

# Runs a PostgreSQL server program as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# $1 free TCP ports on 127.0.0.1, one per line (all bound at once, so they differ).
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()' "$1"
}

pg_port() {
  if [ -n "${REGCAST_PG_PORT:-}" ]; then
    echo "$REGCAST_PG_PORT"
  elif [ -f "$PG_DIR/port" ]; then
    cat "$PG_DIR/port"
  else
    free_ports 1
  fi
}

psql_pg() {
  "$(pg_bin psql)" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"
}

pg_running() {
  [ -f "$PGDATA/postmaster.pid" ] && as_pg "$(pg_bin pg_ctl)" -D "$PGDATA" status >/dev/null 2>&1
}

pg_start() {
  [ -f "$JAR" ] || die "$JAR is missing: build it with mvn -B -q package -DskipTests"
  mkdir -p "$PG_DIR"
  chmod 755 "$DIR" "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_DIR"
    as_pg test -w "$PG_DIR" || die "the postgres user cannot write $PG_DIR (is every parent directory o+x?)"
  fi
  PORT=$(pg_port)
  echo "$PORT" >"$PG_DIR/port.tmp" && mv "$PG_DIR/port.tmp" "$PG_DIR/port"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    as_pg "$(pg_bin initdb)" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if pg_running; then
    echo "PostgreSQL already running on 127.0.0.1:$PORT"
  else
    as_pg "${PIN[@]}" "$(pg_bin pg_ctl)" -D "$PGDATA" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=100" \
      start >/dev/null || { tail -n 20 "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
    echo "PostgreSQL $("$(pg_bin postgres)" --version | awk '{print $3}') on 127.0.0.1:$PORT (data $PGDATA)"
  fi
  if [ -z "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" ]; then
    psql_pg -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'"
  fi
  if [ -z "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
    psql_pg -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  fi
  # The schema, once, with the node's own idempotent DDL (schema/postgres.sql in the jar).
  db_env java -cp "$JAR" io.regcast.node.Schema >/dev/null ||
    die "creating the schema failed"
  echo "schema ready in $(jdbc_url)"
}

pg_stop() {
  if pg_running; then
    as_pg "$(pg_bin pg_ctl)" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
    echo "PostgreSQL stopped"
  else
    echo "PostgreSQL is not running"
  fi
}

pg_status() {
  PORT=$(pg_port)
  if pg_running; then echo "PostgreSQL running on 127.0.0.1:$PORT (data $PGDATA)"; else echo "PostgreSQL not running"; fi
}

jdbc_url() { echo "jdbc:postgresql://127.0.0.1:$PORT/$DB_NAME"; }

# Runs "$@" with the database settings in the environment (and no other REGCAST_* of the caller).
db_env() {
  env REGCAST_DB=postgres REGCAST_JDBC_URL="$(jdbc_url)" REGCAST_DB_USER=$DB_USER \
    REGCAST_DB_PASSWORD=$DB_PASSWORD "$@"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local n=${1:-3} i
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start N: N must be a positive number, got '$n'"
  for pidfile in "$DIR"/node-*/pid; do
    if alive "$pidfile"; then die "a node is still running ($pidfile): run '$0 stop' first"; fi
  done
  mkdir -p "$DIR"
  pg_start
  local key
  if [ -f "$DIR/admin-key" ]; then
    key=$(cat "$DIR/admin-key")
  else
    key=$(python3 -c 'import secrets; print("rck_local_" + secrets.token_hex(16))')
    (umask 077 && echo "$key" >"$DIR/admin-key")
  fi
  local ports=() seeds=""
  mapfile -t ports < <(free_ports $((n * 4)))
  for ((i = 1; i <= n; i++)); do
    seeds+="${seeds:+,}127.0.0.1:${ports[(i - 1) * 4 + 2]}"
  done
  local started=$SECONDS
  for ((i = 1; i <= n; i++)); do
    local node=$DIR/node-$i base=$(((i - 1) * 4))
    mkdir -p "$node"
    printf 'http=%s\ngateway=%s\ncluster=%s\nmanagement=%s\n' \
      "${ports[base]}" "${ports[base + 1]}" "${ports[base + 2]}" "${ports[base + 3]}" >"$node/ports"
    # exec, env, nohup and taskset each replace themselves: $! is the JVM's PID (what stop signals).
    # shellcheck disable=SC2086
    (exec env REGCAST_DB=postgres REGCAST_JDBC_URL="$(jdbc_url)" REGCAST_DB_USER=$DB_USER \
      REGCAST_DB_PASSWORD=$DB_PASSWORD REGCAST_DATA_DIR="$node" REGCAST_ADMIN_KEY="$key" \
      REGCAST_HTTP_PORT="${ports[base]}" REGCAST_GATEWAY_PORT="${ports[base + 1]}" \
      REGCAST_CLUSTER_PORT="${ports[base + 2]}" REGCAST_MANAGEMENT_PORT="${ports[base + 3]}" \
      REGCAST_SEED_NODES="$seeds" \
      nohup "${PIN[@]}" java $JAVA_OPTS -Dconfig.file="$HERE/postgres-cluster.conf" -jar "$JAR") \
      >"$node/node.log" 2>&1 </dev/null &
    echo $! >"$node/pid"
  done
  echo "started $n nodes (seeds $seeds); waiting until every node is Up and ready…"
  for ((i = 1; i <= n; i++)); do
    local node=$DIR/node-$i management
    management=$(sed -n 's/^management=//p' "$node/ports")
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management/ready")" = 200 ] &&
      [ "$(curl -s "http://127.0.0.1:$management/cluster/members" | grep -o '"status":"Up"' | wc -l)" -eq "$n" ]; do
      alive "$node/pid" || { tail -n 30 "$node/node.log" >&2; die "node $i exited (log $node/node.log)"; }
      ((SECONDS - started < READY_DEADLINE)) || die "node $i not ready within ${READY_DEADLINE} s (log $node/node.log)"
      sleep 0.5
    done
  done
  echo "cluster of $n ready in $((SECONDS - started)) s"
  print_nodes "$n"
  echo
  echo "admin key: $DIR/admin-key    export auth=\"Authorization: Bearer \$(cat $DIR/admin-key)\""
}

print_nodes() {
  local i
  for ((i = 1; i <= $1; i++)); do
    local ports=$DIR/node-$i/ports
    echo "node-$i: api http://127.0.0.1:$(sed -n 's/^http=//p' "$ports")" \
      " gateway ws://127.0.0.1:$(sed -n 's/^gateway=//p' "$ports")" \
      " management http://127.0.0.1:$(sed -n 's/^management=//p' "$ports")" \
      " remoting 127.0.0.1:$(sed -n 's/^cluster=//p' "$ports")  log $DIR/node-$i/node.log"
  done
}

stop() {
  local pidfile pids=()
  for pidfile in "$DIR"/node-*/pid; do
    [ -f "$pidfile" ] || continue
    if alive "$pidfile"; then
      kill -TERM "$(cat "$pidfile")"
      pids+=("$(cat "$pidfile")")
    fi
  done
  local until=$((SECONDS + 30)) pid
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < until)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "node $pid did not stop within 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$DIR"/node-*/pid
  echo "stopped ${#pids[@]} nodes"
  if [ -d "$PGDATA" ]; then pg_stop; fi
}

status() {
  local node
  pg_status
  for node in "$DIR"/node-*; do
    [ -d "$node" ] || continue
    local management pid="-" state="stopped" ready="-" members="-"
    management=$(sed -n 's/^management=//p' "$node/ports")
    if alive "$node/pid"; then
      pid=$(cat "$node/pid")
      state="running"
      ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management/ready" || true)
      members=$(curl -s "http://127.0.0.1:$management/cluster/members" |
        grep -o '"node":"[^"]*","nodeUid":"[^"]*","roles":\[[^]]*\],"status":"[A-Za-z]*"' |
        sed 's/.*@\([^"]*\)".*"status":"\([A-Za-z]*\)"/\1 \2/' | paste -sd ',' - || true)
    fi
    echo "$(basename "$node"): $state pid $pid  /ready $ready  members [$members]"
  done
}

cmd=${1:-}
shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  pg-start) mkdir -p "$DIR" && pg_start ;;
  pg-stop) pg_stop ;;
  pg-status) pg_status ;;
  *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
