#!/usr/bin/env bash
# Installs what is missing, builds jobrouter-bench, and runs it.
#
#   ./scripts/bench.sh              the standard run, two sets of rows:
#     1. every scenario on the memory store at the issue's sizes (1M pending jobs, 10k workers;
#        several minutes on 2 cores): jobrouter-bench $MEMORY_SET_ARGS (default --stores memory);
#     2. the Redis store's claim-backlog-scaling rows at the backlogs Redis can load in a few
#        minutes: jobrouter-bench $REDIS_SET_ARGS (default below: backlogs 1k 10k 100k, 1000
#        workers, 20,000 ops a run, 16 claims in flight). REDIS_SET=0 skips this set.
#   ./scripts/bench.sh ARGS...      one run of jobrouter-bench with ARGS instead, e.g. --quick, or
#        --scenarios 'claim-steady|memory' --format json (see build/jobrouter-bench --help, --list).
#
# RESULTS_DIR=bench/results ./scripts/bench.sh   also keeps the run: RESULTS_DIR/bench.txt (the
# tables and targets, headed by the commands, commit, machine and its load during the run),
# RESULTS_DIR/bench.csv (the rows of both sets), and RESULTS_DIR/claims-vs-backlog.svg
# (scripts/bench-plot.sh on that CSV). This is the one command that regenerates the README's
# Performance figures.
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

REDIS_SET="${REDIS_SET:-1}"
MEMORY_SET_ARGS="${MEMORY_SET_ARGS:---stores memory}"
REDIS_SET_ARGS="${REDIS_SET_ARGS:---stores redis --scenarios ^claim-backlog-scaling\$ --backlogs 1000 10000 100000 --workers 1000 --ops 20000 --in-flight 16}"
# The sets to run: ARGS as given, or the standard two. set_args N fills `args` with set N's words
# (the *_SET_ARGS words are split on spaces, never globbed).
nsets=1
if [ $# -eq 0 ] && [ "$REDIS_SET" != 0 ]; then nsets=2; fi
set_args() {
  if [ $# -gt 0 ] && [ "$1" = user ]; then args=("${@:2}")
  elif [ "$1" = 1 ]; then set -f; read -r -a args <<<"$MEMORY_SET_ARGS"; set +f
  else set -f; read -r -a args <<<"$REDIS_SET_ARGS"; set +f; fi
}
user_args=("$@")
pick() { if [ ${#user_args[@]} -gt 0 ]; then set_args user "${user_args[@]}"; else set_args "$1"; fi; }

if [ -z "$RESULTS_DIR" ]; then
  for i in $(seq 1 "$nsets"); do
    pick "$i"
    log "jobrouter-bench ${args[*]}"
    "$BUILD_DIR/jobrouter-bench" "${args[@]}"
  done
  exit 0
fi

mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
table="$(mktemp)"
loads="$(mktemp)"
set_csv="$(mktemp)"
# The 1-minute load average every 5 s while the bench runs (the machine may be shared).
( while :; do cut -d' ' -f1 /proc/loadavg >>"$loads"; sleep 5; done ) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true; rm -f "$table" "$loads" "$set_csv"' EXIT

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
t0="$(date +%s)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$RESULTS_DIR/bench.csv"
for i in $(seq 1 "$nsets"); do
  pick "$i"
  log "jobrouter-bench --csv $RESULTS_DIR/bench.csv ${args[*]}"
  { echo "## jobrouter-bench ${args[*]}"; echo; } >>"$table"
  "$BUILD_DIR/jobrouter-bench" --csv "$set_csv" "${args[@]}" | tee -a "$table"
  echo >>"$table"
  # One CSV for all sets: the header once.
  if [ -s "$RESULTS_DIR/bench.csv" ]; then tail -n +2 "$set_csv" >>"$RESULTS_DIR/bench.csv"
  else cp "$set_csv" "$RESULTS_DIR/bench.csv"; fi
done
seconds=$(( $(date +%s) - t0 ))
kill "$sampler" 2>/dev/null || true

commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$REPO_ROOT" diff --quiet HEAD -- src bench strategies connectors ":(exclude)bench/results" 2>/dev/null || commit="$commit+uncommitted"
{
  echo "# jobrouter-bench run: $started, ${seconds} s"
  echo "# command: RESULTS_DIR=... BUILD_TYPE=$BUILD_TYPE ./scripts/bench.sh $*"
  for i in $(seq 1 "$nsets"); do pick "$i"; echo "#   run $i: jobrouter-bench ${args[*]}"; done
  echo "# commit: $commit"
  echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)"
  echo "# load (1-min average): $load_before before; during the run $(awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { if (NR) printf "min %.2f, mean %.2f, max %.2f over %d samples", lo, s / NR, hi, NR; else printf "not sampled" }' "$loads")"
  echo
  cat "$table"
} >"$RESULTS_DIR/bench.txt"
log "wrote $RESULTS_DIR/bench.txt and $RESULTS_DIR/bench.csv"
"$REPO_ROOT/scripts/bench-plot.sh" "$RESULTS_DIR/bench.csv" "$RESULTS_DIR/claims-vs-backlog.svg"
