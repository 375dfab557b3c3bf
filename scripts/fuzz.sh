#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, JOBROUTER_FUZZ=ON) in build-asan/ (the tree
# test-sanitized.sh uses too) and runs one target, or all of them one after another, for
# SECONDS each:
#
#   ./scripts/fuzz.sh TARGET SECONDS     TARGET: job_spec, worker_caps, mapping, replay, http
#   ./scripts/fuzz.sh all SECONDS
#
# Each target starts from its seed corpus (test/fuzz/corpus/TARGET), copied into a scratch
# corpus (build-asan/corpus/TARGET, kept between runs, so the repository is never written),
# with the dictionary test/fuzz/TARGET.dict.
# Prints the executions and time per target. Exits non-zero if a target crashed, leaked, hit
# undefined behaviour or an input took longer than FUZZ_INPUT_TIMEOUT seconds (default 10);
# the reproducer's path is printed (run it again with: build-asan/fuzz/TARGET_fuzz PATH).
# Extra libFuzzer flags can be given in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-max_len=8192).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

FUZZ_INPUT_TIMEOUT="${FUZZ_INPUT_TIMEOUT:-10}"
SEEDS="$REPO_ROOT/test/fuzz/corpus"

usage() {
  echo "usage: $0 TARGET|all SECONDS   (targets: $(targets | tr '\n' ' '))" >&2
  exit 2
}
targets() { for f in "$REPO_ROOT"/test/fuzz/*_fuzz.cpp; do basename "$f" _fuzz.cpp; done; }

[ $# -eq 2 ] || usage
target="$1" seconds="$2"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS: must be a positive integer, got '$seconds'" >&2; usage; }
if [ "$target" = all ]; then
  mapfile -t chosen < <(targets)
else
  grep -qx -- "$target" <<<"$(targets)" || { echo "TARGET: unknown target '$target'" >&2; usage; }
  chosen=("$target")
fi

REQUIRED_PACKAGES+=("${FUZZ_PACKAGES[@]}")
ensure_packages

configure_sanitized
log "building ${chosen[*]} in $SANITIZE_BUILD_DIR"
cmake --build "$SANITIZE_BUILD_DIR" -j "$(nproc)" --target "${chosen[@]/%/_fuzz}" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

summary=() failed=0
for t in "${chosen[@]}"; do
  work="$SANITIZE_BUILD_DIR/corpus/$t" artifacts="$SANITIZE_BUILD_DIR/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  cp -n "$SEEDS/$t"/* "$work"/
  out="$SANITIZE_BUILD_DIR/fuzz-$t.log"
  log "fuzzing $t for $seconds s (corpus $work, log $out)"
  dict=()
  [ -f "$REPO_ROOT/test/fuzz/$t.dict" ] && dict=(-dict="$REPO_ROOT/test/fuzz/$t.dict")
  status=0
  # libFuzzer stops itself after -max_total_time; the outer timeout is the backstop.
  timeout --kill-after=10 $((seconds + FUZZ_INPUT_TIMEOUT + 60)) \
    "$SANITIZE_BUILD_DIR/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout="$FUZZ_INPUT_TIMEOUT" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_FLAGS:-} "$work" >"$out" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)"
  secs="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out" | tail -1)"
  units="$(ls "$work" | wc -l)"
  if [ "$status" -eq 0 ]; then
    summary+=("$(printf '%-12s ok     %10s execs in %4s s, corpus %s inputs' "$t" "${execs:-?}" "${secs:-?}" "$units")")
  else
    failed=1
    repro="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out" | tail -1)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz property violated)' "$out" | head -5 >&2 || true
    summary+=("$(printf '%-12s FAILED (exit %s) after %s execs; reproducer: %s; log: %s' "$t" "$status" "${execs:-?}" \
      "${repro:-none written}" "$out")")
  fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
