#!/usr/bin/env bash
# Builds grpcurl (an independent gRPC client, the one the README shows) once into a
# cache outside the repository, with the machine's Go from the Go module proxy: no
# prebuilt binary can be downloaded here. Idempotent. Prints, as its last line, the
# path of the binary to put in QKV_GRPCURL (the TLS tests use it and, in CI, fail
# rather than skip without it).
#
# Environment: QKV_TOOLS_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv),
# QKV_GRPCURL_VERSION.
set -euo pipefail

version="${QKV_GRPCURL_VERSION:-v1.9.4}"
cache_dir="${QKV_TOOLS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
bin_dir="$cache_dir/grpcurl-$version/bin"
mkdir -p "$bin_dir"

if [ ! -x "$bin_dir/grpcurl" ]; then
  printf '[grpcurl-env] building grpcurl %s (about a minute)\n' "$version" >&2
  GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version"
fi
echo "$bin_dir/grpcurl"
