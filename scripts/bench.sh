#!/usr/bin/env bash
# Installs what is missing, builds jobrouter-bench, and runs it: the standard set of scenarios
# at the issue's sizes (1M pending jobs, 10k workers; several minutes on 2 cores). Extra
# arguments go to jobrouter-bench, e.g.  ./scripts/bench.sh --quick   or   ./scripts/bench.sh
# --scenarios 'claim-steady|memory' --format json   (see build/jobrouter-bench --help and --list).
#
# RESULTS_DIR=bench/results ./scripts/bench.sh   also keeps the run: RESULTS_DIR/bench.txt (the
# table and targets, headed by the command, commit, machine and its load during the run),
# RESULTS_DIR/bench.csv (the rows), and RESULTS_DIR/claims-vs-backlog.svg (scripts/bench-plot.sh
# on that CSV). This is the one command that regenerates the README's Performance figures.
#
# Builds with BUILD_TYPE (default Release), only the jobrouter-bench target. When the build
# directory was configured with another type it is reconfigured; set BUILD_TYPE=RelWithDebInfo
# to keep the type test.sh uses (and symbols for profilers), or BUILD_DIR to bench in a build
# tree of its own.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BUILD_TYPE="${BUILD_TYPE:-Release}"
RESULTS_DIR="${RESULTS_DIR:-}"
ensure_packages
cached_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
# Build output goes to stderr: stdout is only the bench's table, CSV or JSON.
if [ -z "$cached_type" ] || [ "$cached_type" != "$BUILD_TYPE" ]; then
  [ -n "$cached_type" ] && log "reconfiguring $BUILD_DIR: CMAKE_BUILD_TYPE $cached_type -> $BUILD_TYPE"
  cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >&2
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target jobrouter-bench >&2

if [ -z "$RESULTS_DIR" ]; then
  log "jobrouter-bench $*"
  exec "$BUILD_DIR/jobrouter-bench" "$@"
fi

mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
table="$(mktemp)"
loads="$(mktemp)"
# The 1-minute load average every 5 s while the bench runs (the machine may be shared).
( while :; do cut -d' ' -f1 /proc/loadavg >>"$loads"; sleep 5; done ) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true; rm -f "$table" "$loads"' EXIT

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
t0="$(date +%s)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "jobrouter-bench --csv $RESULTS_DIR/bench.csv $*"
"$BUILD_DIR/jobrouter-bench" --csv "$RESULTS_DIR/bench.csv" "$@" | tee "$table"
seconds=$(( $(date +%s) - t0 ))
kill "$sampler" 2>/dev/null || true

commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$REPO_ROOT" diff --quiet HEAD -- src bench strategies connectors ":(exclude)bench/results" 2>/dev/null || commit="$commit+uncommitted"
{
  echo "# jobrouter-bench run: $started, ${seconds} s"
  echo "# command: RESULTS_DIR=... BUILD_TYPE=$BUILD_TYPE ./scripts/bench.sh $*"
  echo "# commit: $commit"
  echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)"
  echo "# load (1-min average): $load_before before; during the run $(awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { if (NR) printf "min %.2f, mean %.2f, max %.2f over %d samples", lo, s / NR, hi, NR; else printf "not sampled" }' "$loads")"
  echo
  cat "$table"
} >"$RESULTS_DIR/bench.txt"
log "wrote $RESULTS_DIR/bench.txt and $RESULTS_DIR/bench.csv"
"$REPO_ROOT/scripts/bench-plot.sh" "$RESULTS_DIR/bench.csv" "$RESULTS_DIR/claims-vs-backlog.svg"
