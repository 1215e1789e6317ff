#!/usr/bin/env bash
# Vendor the browser libraries of the console into web/static/vendor/ (run by hand; the result is committed).
#
# Leaflet (BSD-2-Clause) draws the dashboard's map. It comes from the npm registry as the published tarball,
# checked against the integrity npm records for that version, and only its dist files and LICENSE are kept.
# No map tiles are downloaded: the dashboard draws Padang's kecamatan from padang112/data/padang_wilayah.json.
#
#   scripts/vendor-web.sh        # needs npm (Debian: apt-get install npm) and network access to the registry
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET_VERSION=1.9.4
LEAFLET_INTEGRITY="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
TARGET=web/static/vendor/leaflet

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unpack NAME VERSION INTEGRITY: the npm tarball, checked, unpacked into $work/NAME/package
unpack() {
  mkdir -p "$work/$1"
  (cd "$work/$1" && npm pack --silent "$1@$2" >/dev/null)
  local tarball actual
  tarball="$work/$1/$1-$2.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$3" ]; then
    echo "vendor-web: $1-$2.tgz has integrity $actual, expected $3" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work/$1"
}

unpack leaflet "$LEAFLET_VERSION" "$LEAFLET_INTEGRITY"
rm -rf "$TARGET"
mkdir -p "$TARGET/images"
cp "$work/leaflet/package/dist/leaflet.js" "$work/leaflet/package/dist/leaflet.css" "$work/leaflet/package/LICENSE" "$TARGET/"
cp "$work/leaflet/package/dist/images/"*.png "$TARGET/images/"
echo "leaflet $LEAFLET_VERSION ($LEAFLET_INTEGRITY) from the npm registry" > "$TARGET/VERSION"
echo "vendor-web: leaflet $LEAFLET_VERSION -> $TARGET"

# hls.js (Apache-2.0) plays the cameras' HLS streams where the browser has no native HLS (Chromium): only its
# light minified ES module (no subtitles, alternate audio or DRM: cameras have none) and LICENSE are kept.
HLS_VERSION=1.7.4
HLS_INTEGRITY="sha512-3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="
unpack hls.js "$HLS_VERSION" "$HLS_INTEGRITY"
rm -rf web/static/vendor/hls
mkdir -p web/static/vendor/hls
cp "$work/hls.js/package/dist/hls.light.min.mjs" "$work/hls.js/package/LICENSE" web/static/vendor/hls/
echo "hls.js $HLS_VERSION ($HLS_INTEGRITY) from the npm registry" > web/static/vendor/hls/VERSION
echo "vendor-web: hls.js $HLS_VERSION -> web/static/vendor/hls"
