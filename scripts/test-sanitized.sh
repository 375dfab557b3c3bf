#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/ (clang,
# JOBROUTER_SANITIZE=ON; JOBROUTER_FUZZ=ON too, so scripts/fuzz.sh reuses the same objects) and
# runs the whole CTest suite there. Any sanitizer report fails the test that triggered it: UB
# aborts (-fno-sanitize-recover), ASan and LeakSanitizer exit non-zero.
# Extra arguments go to ctest (e.g. ./scripts/test-sanitized.sh -R matcher).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

REQUIRED_PACKAGES+=("${FUZZ_PACKAGES[@]}")
ensure_packages
configure_sanitized
log "building with ASan+UBSan in $SANITIZE_BUILD_DIR"
cmake --build "$SANITIZE_BUILD_DIR" -j "$(nproc)"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$SANITIZE_BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
