#!/usr/bin/env bash
# Installs what is missing, builds, and runs jobrouter-bench: the standard set of scenarios at
# the issue's sizes (1M pending jobs, 10k workers; several minutes on 2 cores). Extra arguments
# go to jobrouter-bench, e.g.  ./scripts/bench.sh --quick   or   ./scripts/bench.sh --scenarios
# 'claim-steady|memory' --format json   (see build/jobrouter-bench --help and --list).
#
# Builds with BUILD_TYPE (default Release). When build/ was configured with another type it is
# reconfigured; set BUILD_TYPE=RelWithDebInfo to keep the type test.sh uses (and symbols for
# profilers), or BUILD_DIR to bench in a build tree of its own.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BUILD_TYPE="${BUILD_TYPE:-Release}"
ensure_packages
cached_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
# Build output goes to stderr: stdout is only the bench's table, CSV or JSON.
if [ -n "$cached_type" ] && [ "$cached_type" != "$BUILD_TYPE" ]; then
  log "reconfiguring $BUILD_DIR: CMAKE_BUILD_TYPE $cached_type -> $BUILD_TYPE"
  build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >&2
else
  build >&2
fi
log "jobrouter-bench $*"
"$BUILD_DIR/jobrouter-bench" "$@"
