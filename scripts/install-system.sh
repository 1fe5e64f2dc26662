#!/usr/bin/env bash
# Installs the Debian packages Carto needs when they are missing (as root, or via sudo).
# Quiet and quick when everything is already there: it only asks dpkg.
#   scripts/install-system.sh          what `make demo` needs
#   scripts/install-system.sh --test   plus what only the tests use (real QGIS, offscreen);
#                                      also when CARTO_INSTALL_TEST_TOOLS=1
set -euo pipefail

test_tools="${CARTO_INSTALL_TEST_TOOLS:-0}"
if [ "${1:-}" = "--test" ]; then test_tools=1; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }

updated=0
apt_install() {
  if [ "$updated" -eq 0 ]; then
    echo "install: apt-get update" >&2
    $SUDO apt-get update -qq
    updated=1
  fi
  echo "install: apt-get install $*" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL first, then the PostGIS build that matches its major version.
need postgresql
need postgresql-contrib
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; missing=(); fi
pg_major=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
need "postgresql-${pg_major}-postgis-3"
need gdal-bin          # ogrinfo: OGC API Features and export checks in the tests
need wrk              # load generator of the tiles benchmark (bench/tiles/run.py)
need redis-server     # the external geocoder tests run a real addok (tests/geocoding)
need gcc              # addok needs python-geohash, published as source only
need python3-dev
need fonts-dejavu-core # street-name glyphs of the offline base map (carto/tiles/glyphs.py)
need chromium          # end-to-end tests of the web map (Playwright drives Debian's Chromium)
need nodejs
need npm
if [ "$test_tools" = "1" ]; then
  # tests/layers/test_qgis.py: the exported projects opened by Debian's QGIS (PyQGIS in
  # the system python3) under xvfb-run. Never installed by `make demo`.
  need qgis
  need python3-qgis
  need xvfb
  need xauth
fi
if [ "${#missing[@]}" -gt 0 ]; then
  # nodejs/npm may come from elsewhere on this machine: skip them when the commands exist.
  filtered=()
  for pkg in "${missing[@]}"; do
    case "$pkg" in
      nodejs) command -v node >/dev/null || filtered+=("$pkg") ;;
      npm) command -v npm >/dev/null || filtered+=("$pkg") ;;
      *) filtered+=("$pkg") ;;
    esac
  done
  if [ "${#filtered[@]}" -gt 0 ]; then apt_install "${filtered[@]}"; fi
fi
