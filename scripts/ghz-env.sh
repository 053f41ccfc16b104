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

# shellcheck source=scripts/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
install_go_tool ghz-env ghz "${QKV_GHZ_VERSION:-v0.93.0}" github.com/bojand/ghz/cmd/ghz 'a few minutes'
