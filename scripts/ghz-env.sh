#!/usr/bin/env bash
# Builds ghz (an independent gRPC load generator) once into a cache outside the
# repository, with the machine's Go from the Go module proxy: no prebuilt binary can be
# downloaded here. `npm run bench:compare` drives both etcd and quorumkv with it so that
# the client costs the same on both sides. Idempotent. Prints, as its last line, the path
# of the binary to put in QKV_GHZ (the ghz harness test uses it and, in CI, fails rather
# than skips without it).
#
# Environment: QKV_TOOLS_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv),
# QKV_GHZ_VERSION.
set -euo pipefail

version="${QKV_GHZ_VERSION:-v0.93.0}"
cache_dir="${QKV_TOOLS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
bin_dir="$cache_dir/ghz-$version/bin"
mkdir -p "$bin_dir"

if [ ! -x "$bin_dir/ghz" ]; then
  printf '[ghz-env] building ghz %s (a few minutes)\n' "$version" >&2
  GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" go install "github.com/bojand/ghz/cmd/ghz@$version"
fi
echo "$bin_dir/ghz"
