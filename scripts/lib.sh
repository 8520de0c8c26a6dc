# Shared by scripts/*.sh: locate the repository, install dependencies.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-$(nproc)}"

# ccache: relative paths make a fresh clone in another directory hit the
# cache of an earlier one.
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"

# The Debian 12 packages from docs/architecture.md ("Dependencies").
# libboost-all-dev (1.74, no Boost.JSON) conflicts with these: never add it.
DEPS=(
  build-essential cmake ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev librapidcheck-dev
  libsqlite3-dev libpq-dev libzstd-dev libssl-dev
  libfiu-dev fiu-utils
  libjemalloc-dev
  clang-14 libclang-rt-14-dev clang-tidy-14
  curl jq
  systemd
)
# Only the test command needs a PostgreSQL server.
PG_DEPS=(postgresql-15)
# Only the web console's browser tests (scripts/test_console.sh) need a
# browser: Debian's own, driven headless; npm never downloads one.
BROWSER_DEPS=(chromium)
# Only bench/plot.sh (docs/benchmarks.md plots) needs gnuplot.
PLOT_DEPS=(gnuplot-nox)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of the given packages are missing; a no-op (and fast)
# when all are present.
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "acpstore: installing ${missing[*]}" >&2
    as_root apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
}

# configure_and_build PRESET [TARGETS...]
configure_and_build() {
  local preset="$1"; shift
  cmake --preset "$preset" -S "$ROOT" >/dev/null
  cmake --build "$ROOT/build/$preset" -j "$JOBS" ${1:+--target "$@"}
}
