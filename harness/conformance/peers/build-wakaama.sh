#!/usr/bin/env bash
# Builds Eclipse Wakaama's example peers (lwm2mserver, lwm2mclient, lwm2mclient_tinydtls,
# bootstrap_server) from the pinned tarball in ../shared/peers, for the interop tests in
# harness/conformance/wakaama.rs. Never copy Wakaama's code into the project: it is built here,
# out of tree, under target/.
#
# Usage: build-wakaama.sh [OUT]   (OUT defaults to target/peers)
# Prints the directory holding the binaries (OUT/bin) on its last line. Idempotent: a tarball
# already built (its stamp file present, all binaries there) is not rebuilt.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:-$root/target/peers}"
tarball="$(ls "$root"/../shared/peers/wakaama-*.tar.gz 2>/dev/null | head -n1 || true)"
if [ -z "$tarball" ]; then
  echo "build-wakaama: no wakaama-*.tar.gz in $root/../shared/peers" >&2
  exit 1
fi
for tool in cmake autoreconf libtoolize make cc; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build-wakaama: $tool is missing (Debian: apt-get install cmake autoconf automake libtool build-essential)" >&2
    exit 1
  }
done

name="$(basename "$tarball" .tar.gz)"
src="$out/$name"
bin="$out/bin"
stamp="$src/.built"
binaries=(lwm2mserver lwm2mclient lwm2mclient_tinydtls bootstrap_server)

all_there() {
  for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || return 1; done
}
if [ -f "$stamp" ] && all_there; then
  echo "build-wakaama: $name already built" >&2
  echo "$bin"
  exit 0
fi

rm -rf "$src"
mkdir -p "$src" "$bin"
tar -xzf "$tarball" -C "$src"
cd "$src/wakaama"
jobs="${WAKAAMA_JOBS:-2}"
for ex in server client/udp client/tinydtls bootstrap_server; do
  dir="build-${ex//\//-}"
  cmake -S "examples/$ex" -B "$dir" -DWAKAAMA_UNIT_TESTS=OFF >"$dir.log" 2>&1 \
    || { cat "$dir.log" >&2; exit 1; }
  cmake --build "$dir" -j"$jobs" >>"$dir.log" 2>&1 || { tail -n 60 "$dir.log" >&2; exit 1; }
done
cp build-server/lwm2mserver build-client-udp/lwm2mclient \
  build-client-tinydtls/lwm2mclient_tinydtls build-bootstrap_server/bootstrap_server "$bin/"
touch "$stamp"
echo "build-wakaama: built ${binaries[*]} into $bin" >&2
echo "$bin"
