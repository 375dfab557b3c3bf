#!/usr/bin/env bash
# Server-side cost of the Redis store's hot calls, per Functions library version, on the same
# data: what a shared machine distorts least (README, "The Redis store", Figures).
#
#   scripts/redis-claim-cost.sh [LIBRARY.lua ...]
#       default: src/redis/jobrouter.lua. Give two files (e.g. an older version from
#       `git show REV:src/redis/jobrouter.lua >/tmp/old.lua`) to compare them round by round.
#
# A private redis-server (free loopback port, no persistence) gets a backlog of JOBS jobs (8 job
# types x 8 requirement classes, 4 priorities, 100-byte payloads, all submitted in the same ms,
# so heads tie) through `build/jobrouter replay --store redis://...`, and two workers: w0 offers
# 4 of the types (every claim hands out a job), w1 a type nobody submits (nothing matches).
# Then ROUNDS times, for each library in turn (FUNCTION LOAD REPLACE; the data is shared):
#   N `FCALL jobrouter_claim 0 T w0` piped (redis-cli --pipe), each handing out a job;
#   a `jobrouter_complete` of each of those jobs;  N claims by w1;  N `jobrouter_advance`.
# For each it prints Redis's `INFO commandstats` usec_per_call of fcall (time inside the server,
# which includes waiting for a core), the main thread's CPU time per call (`INFO cpu`), and the
# Redis commands the function made per call: their number, the time Redis spent executing them
# (commandstats usec / N; the rest of usec_per_call is Lua and the call overhead), and the
# count per command.
#
# Environment: JOBS (80000), N (5000), ROUNDS (3), BUILD_DIR (build). Needs the jobrouter binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

JOBS="${JOBS:-80000}"
N="${N:-5000}"
ROUNDS="${ROUNDS:-3}"
[ $# -gt 0 ] || set -- "$REPO_ROOT/src/redis/jobrouter.lua"
for lib in "$@"; do [ -r "$lib" ] || { log "redis-claim-cost: cannot read library $lib"; exit 2; }; done
[ $(( ROUNDS * $# * N )) -le $(( JOBS / 2 )) ] ||
  { log "redis-claim-cost: ROUNDS x libraries x N = $(( ROUNDS * $# * N )) claims need twice as many jobs (w0 takes half the types); JOBS is $JOBS"; exit 2; }
jobrouter="$BUILD_DIR/jobrouter"
[ -x "$jobrouter" ] || { log "redis-claim-cost: $jobrouter missing (cmake --build $BUILD_DIR --target jobrouter)"; exit 2; }

work="$(mktemp -d)"
port=""
cleanup() {
  [ -n "$port" ] && timeout 10 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A free port: the first one in a random range that nothing listens on.
for try in $(seq 1 50); do
  p=$(( 20000 + RANDOM % 20000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { log "redis-claim-cost: no free port found"; exit 1; }
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --dir "$work" --logfile "$work/redis.log" --pidfile "$work/redis.pid"
for _ in $(seq 1 50); do timeout 2 redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
cli() { timeout 60 redis-cli -p "$port" "$@"; }
cli ping >/dev/null || { log "redis-claim-cost: redis-server on port $port did not answer"; exit 1; }

T=1700000000000
payload="$(printf 'x%.0s' $(seq 1 100))"
{
  echo '{"op":"register","t":'$T',"worker":{"worker_id":"w0","job_service_required_map":["type0","type2","type4","type6"],"hardware":{"gpu_memory_gb":80,"ram_gb":512,"cpu_cores":64}}}'
  echo '{"op":"register","worker":{"worker_id":"w1","job_service_required_map":["nobody-submits-this"],"hardware":{"gpu_memory_gb":80}}}'
  awk -v jobs="$JOBS" -v payload="$payload" 'BEGIN {
    for (k = 0; k < jobs; k++) {
      type = k % 8; sig = int(k / 8) % 8; prio = 10 * (int(k / 64) % 4)
      printf "{\"op\":\"submit\",\"job\":{\"id\":\"j%07d\",\"service_required\":\"type%d\",\"priority\":%d,", k, type, prio
      printf "\"requirements\":{\"hardware\":{\"gpu_memory_gb\":%d}},\"payload\":{\"data\":\"%s\"}}}\n", sig + 1, payload
    }
  }'
} >"$work/trace.jsonl"
log "redis-claim-cost: loading $JOBS jobs into redis-server :$port"
timeout 600 "$jobrouter" replay --store "redis://127.0.0.1:$port/0" --flush "$work/trace.jsonl" >/dev/null

cpu_main() { cli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys)_main_thread:/ { s += $2 } END { printf "%.6f", s }'; }

# measure LABEL FILE: pipes FILE's commands, prints one line of figures.
measure() {
  local label="$1" file="$2" c0 c1
  cli config resetstat >/dev/null
  c0="$(cpu_main)"
  timeout 600 redis-cli -p "$port" --pipe <"$work/$file" >/dev/null
  c1="$(cpu_main)"
  cli info commandstats | tr -d '\r' | awk -F'[:,=]' -v label="$label" -v n="$N" -v cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" '
    /^cmdstat_fcall:/ { for (i = 2; i < NF; i += 2) if ($i == "usec_per_call") upc = $(i + 1); next }
    /^cmdstat_/ { name = substr($1, 9); if (name ~ /^(config|info|ping|echo)/) next
                  for (i = 2; i < NF; i += 2) { if ($i == "calls") c = $(i + 1); if ($i == "usec") u = $(i + 1) }
                  inner = inner sprintf(" %s %.2f", name, c / n); calls += c / n; usec += u / n }
    END { printf "  %-24s usec_per_call %6.1f  cpu_us/call %6.1f  redis.call/call %5.2f (%5.1f us):%s\n",
                 label, upc, cpu * 1e6 / n, calls, usec, inner }'
}

for round in $(seq 1 "$ROUNDS"); do
  for lib in "$@"; do
    cli -x function load replace <"$lib" >/dev/null
    echo "round $round, $(basename "$lib") (library version $(cli fcall_ro jobrouter_version 0))"
    for _ in $(seq 1 "$N"); do echo "FCALL jobrouter_claim 0 $T w0"; done >"$work/claims"
    measure "claim (hands out)" claims
    cli hkeys jobs:active:w0 | awk -v t="$T" '{ print "FCALL jobrouter_complete 0 " t " " $0 " {}" }' >"$work/completes"
    [ "$(wc -l <"$work/completes")" -eq "$N" ] ||
      { log "redis-claim-cost: w0 holds $(wc -l <"$work/completes") jobs after $N claims, expected $N"; exit 1; }
    measure "complete" completes
    for _ in $(seq 1 "$N"); do echo "FCALL jobrouter_claim 0 $T w1"; done >"$work/misses"
    measure "claim (nothing matches)" misses
    for _ in $(seq 1 "$N"); do echo "FCALL jobrouter_advance 0 $T"; done >"$work/advances"
    measure "advance (nothing due)" advances
  done
done
