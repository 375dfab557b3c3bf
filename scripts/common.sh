# Shared by run.sh, test.sh and bench.sh: install what is missing, then configure and build.
# Sourced, not run. Builds into build/ (override with BUILD_DIR).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"

# Debian packages the project needs to build and test (README "Dependencies").
REQUIRED_PACKAGES=(
  cmake g++ make
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-test1.81-dev
  libboost-url1.81-dev libhiredis-dev redis-server pkg-config
)

log() { printf '[jobrouter] %s\n' "$*" >&2; }

# ensure_packages [PACKAGE...]: installs what is missing of the given packages (default:
# REQUIRED_PACKAGES; bench-plot.sh passes its own, bench-only ones).
ensure_packages() {
  local missing=() pkg wanted=("$@")
  [ $# -eq 0 ] && wanted=("${REQUIRED_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]}"
    log "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build [extra cmake args...]: configures once, then lets the build system decide what to redo.
build() {
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] || [ $# -gt 0 ]; then
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}
