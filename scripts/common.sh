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
# Only for scripts/fuzz.sh and scripts/test-sanitized.sh (libFuzzer and the sanitizer runtimes).
FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# Their shared clang ASan+UBSan tree: the fuzz targets and a sanitized test suite, one build.
SANITIZE_BUILD_DIR="${SANITIZE_BUILD_DIR:-$REPO_ROOT/build-asan}"

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

# configure_sanitized: configures SANITIZE_BUILD_DIR once (clang, JOBROUTER_SANITIZE and
# JOBROUTER_FUZZ on, tests on); callers then build the targets they need.
configure_sanitized() {
  [ -f "$SANITIZE_BUILD_DIR/CMakeCache.txt" ] && return 0
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$REPO_ROOT" -B "$SANITIZE_BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DJOBROUTER_SANITIZE=ON -DJOBROUTER_FUZZ=ON -DJOBROUTER_BUILD_TESTS=ON "${launcher[@]}" >/dev/null
}
