#!/usr/bin/env bash
# Installs what is missing, builds, and runs `jobrouter serve` on its embedded defaults:
# the HTTP API on 127.0.0.1:7700, two in-process simulation workers (WORKERS=simulation:2) and,
# with --simulate, the simulation service they talk to (HTTP on 8299, WebSocket on 8399).
# Extra arguments go to `jobrouter serve` (see `build/jobrouter serve --help`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages
build
exec "$BUILD_DIR/jobrouter" serve --simulate "$@"
