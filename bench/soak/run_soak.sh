#!/usr/bin/env bash
# bench/soak/run_soak.sh JOBROUTER JOBROUTER_SOAK SECONDS [--store URL] [jobrouter-soak options...]
#
# Runs one soak with binaries already built: starts `JOBROUTER serve` on a free loopback port
# (no in-process workers; the settings below), runs JOBROUTER_SOAK against it for SECONDS, then
# stops serve. scripts/soak.sh builds and calls this; CTest's soak_smoke calls it with a few
# seconds. Exit: the driver's (0 only when every check passed), 1 when serve did not start or
# died, 2 for bad usage. SOAK_DIR keeps serve's log (default: a temporary directory, removed).
set -euo pipefail

usage() { echo "usage: run_soak.sh JOBROUTER JOBROUTER_SOAK SECONDS [--store URL] [jobrouter-soak options...]" >&2; exit 2; }
[ $# -ge 3 ] || usage
JOBROUTER="$1"; SOAK="$2"; SECONDS_ARG="$3"; shift 3
[[ "$SECONDS_ARG" =~ ^[1-9][0-9]*$ ]] || { echo "run_soak.sh: SECONDS must be a positive integer, got '$SECONDS_ARG'" >&2; usage; }
STORE_ARGS=()
DRIVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store) [ $# -ge 2 ] || { echo "run_soak.sh: --store needs a URL" >&2; usage; }; STORE_ARGS=(--store "$2"); shift 2 ;;
    --store=*) STORE_ARGS=(--store "${1#--store=}"); shift ;;
    *) DRIVER_ARGS+=("$1"); shift ;;
  esac
done
log() { printf '[soak] %s\n' "$*" >&2; }

# serve's settings; the driver is told the ones it must know. A short lease, worker timeout and
# retention, so that a few minutes reach a steady state (finished jobs dropped after 15 s).
LEASE_MS=1500
MAX_BODY_BYTES=65536
DRAIN_S=60

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

"$JOBROUTER" serve --listen 127.0.0.1:0 --port-file "$work/port" --workers none --machine-id soak \
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
  "$SOAK" --port "$port" --pid "$serve_pid" --seconds "$SECONDS_ARG" --lease-ms "$LEASE_MS" \
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
