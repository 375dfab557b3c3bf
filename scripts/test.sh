#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest.
# Extra arguments go to ctest (e.g. ./scripts/test.sh -R matcher).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages
build
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
