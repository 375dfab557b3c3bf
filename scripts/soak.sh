#!/usr/bin/env bash
# scripts/soak.sh SECONDS [--store URL] [jobrouter-soak options...]
#
# Soak test (issue #8; not part of the default test run): builds jobrouter and jobrouter-soak,
# starts `jobrouter serve` on a free loopback port (external workers only), and runs the soak
# driver against it for SECONDS: submitting clients, long-polling workers that complete, fail
# (retryable or not), stall past their lease, vanish mid-job or drop their claim's connection,
# clients that cancel random jobs, and malformed, oversized and non-HTTP requests. Then the queue
# drains and the driver checks that no job was lost, that the counters reconcile (/metrics,
# the /ws/events stream and its own tally) and that serve's RSS stayed flat after warm-up; it
# prints the figures and every check. Exit 0 only when all hold (and serve survived).
#
# --store URL is passed to serve (the Redis store, once serve supports it); the default is the
# memory store. Other options go to jobrouter-soak (build/jobrouter-soak --help), e.g.
# --workers 8 --submitters 4 --seed 7 --rss-growth-pct 10.
#
# Builds in BUILD_DIR (default build/), configured with BUILD_TYPE (default Release) if it is not
# configured yet; an existing tree keeps its type. SOAK_DIR keeps serve's log (default: a
# temporary directory, removed afterwards).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { echo "usage: scripts/soak.sh SECONDS [--store URL] [jobrouter-soak options...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
SECONDS_ARG="$1"; shift
[[ "$SECONDS_ARG" =~ ^[1-9][0-9]*$ ]] || { echo "scripts/soak.sh: SECONDS must be a positive integer, got '$SECONDS_ARG'" >&2; usage; }
STORE_ARGS=()
DRIVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store) [ $# -ge 2 ] || { echo "scripts/soak.sh: --store needs a URL" >&2; usage; }; STORE_ARGS=(--store "$2"); shift 2 ;;
    --store=*) STORE_ARGS=(--store "${1#--store=}"); shift ;;
    *) DRIVER_ARGS+=("$1"); shift ;;
  esac
done

# serve's settings; the driver is told the ones it must know.
LEASE_MS=1500
MAX_BODY_BYTES=65536
DRAIN_S=60

ensure_packages
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "${launcher[@]}" >&2
fi
log "building jobrouter and jobrouter-soak in $BUILD_DIR ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt"))"
cmake --build "$BUILD_DIR" -j "$(nproc)" --target jobrouter jobrouter-soak >&2

if [ -n "${SOAK_DIR:-}" ]; then
  mkdir -p "$SOAK_DIR"; work="$(cd "$SOAK_DIR" && pwd)"; keep=1
else
  work="$(mktemp -d)"; keep=0
fi
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$serve_pid" 2>/dev/null || true
  fi
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

"$BUILD_DIR/jobrouter" serve --listen 127.0.0.1:0 --port-file "$work/port" --workers none --machine-id soak \
  --lease-ms "$LEASE_MS" --retry-backoff-ms 100 --retry-backoff-max-ms 1000 --worker-timeout-ms 4000 \
  --retention-ms 15000 --max-body-bytes "$MAX_BODY_BYTES" --max-ws-queue 1000000 --log-level warn \
  ${STORE_ARGS[@]+"${STORE_ARGS[@]}"} >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/port" ] && grep -q $'\n' "$work/port" 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$serve_pid" 2>/dev/null || [ ! -s "$work/port" ]; then
  log "serve did not start; its output:"
  cat "$work/serve.log" >&2
  exit 1
fi
port="$(head -1 "$work/port")"
log "serve pid $serve_pid on 127.0.0.1:$port ${STORE_ARGS[*]:-(memory store)}; log in $work/serve.log"

rc=0
timeout --kill-after=10 $((SECONDS_ARG + DRAIN_S + 120)) \
  "$BUILD_DIR/jobrouter-soak" --port "$port" --pid "$serve_pid" --seconds "$SECONDS_ARG" --lease-ms "$LEASE_MS" \
  --max-body-bytes "$MAX_BODY_BYTES" --drain-s "$DRAIN_S" ${DRIVER_ARGS[@]+"${DRIVER_ARGS[@]}"} || rc=$?

if ! kill -0 "$serve_pid" 2>/dev/null; then
  log "FAIL: serve died during the soak; the end of its output:"
  tail -20 "$work/serve.log" >&2
  exit 1
fi
[ "$rc" -eq 124 ] && log "FAIL: the soak driver did not finish in time (timeout)"
if [ "$rc" -ne 0 ]; then
  log "the end of serve's output:"
  tail -20 "$work/serve.log" >&2
fi
exit "$rc"
