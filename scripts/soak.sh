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

ensure_packages
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "${launcher[@]}" >&2
fi
log "building jobrouter and jobrouter-soak in $BUILD_DIR ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt"))"
cmake --build "$BUILD_DIR" -j "$(nproc)" --target jobrouter jobrouter-soak >&2

exec "$REPO_ROOT/bench/soak/run_soak.sh" "$BUILD_DIR/jobrouter" "$BUILD_DIR/jobrouter-soak" "$SECONDS_ARG" \
  ${STORE_ARGS[@]+"${STORE_ARGS[@]}"} ${DRIVER_ARGS[@]+"${DRIVER_ARGS[@]}"}
