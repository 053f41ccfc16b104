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

# shellcheck source=scripts/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
install_go_tool grpcurl-env grpcurl "${QKV_GRPCURL_VERSION:-v1.9.4}" github.com/fullstorydev/grpcurl/cmd/grpcurl 'about a minute'
