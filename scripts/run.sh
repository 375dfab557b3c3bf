#!/usr/bin/env bash
# Installs what is missing, builds, and runs jobrouter on its embedded defaults.
# Until `jobrouter serve` lands this replays the demo trace config/examples/demo.trace.jsonl
# with the embedded service mapping, under both strategies, with explanations.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages
build
for strategy in job-type service-name; do
  log "replay config/examples/demo.trace.jsonl --strategy $strategy --explain"
  "$BUILD_DIR/jobrouter" replay --strategy "$strategy" --explain "$REPO_ROOT/config/examples/demo.trace.jsonl"
done
