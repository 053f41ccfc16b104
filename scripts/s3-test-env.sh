#!/usr/bin/env bash
# Builds versitygw (an Apache-2.0 S3 gateway over a POSIX directory: a real S3 server,
# not a fake; docs/decisions/0145-versitygw-as-the-test-s3-server.md) once into a cache
# outside the repository, with the machine's Go from the Go module proxy. Idempotent.
# Prints, as its last line, the path of the binary to put in QKV_S3_SERVER (the S3
# backup tests start it; in CI, with QKV_S3_SERVER_REQUIRED=1, they fail rather than
# skip without it).
#
# Environment: QKV_TOOLS_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv),
# QKV_VERSITYGW_VERSION.
set -euo pipefail

# shellcheck source=scripts/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
install_go_tool s3-test-env versitygw "${QKV_VERSITYGW_VERSION:-v1.8.0}" github.com/versity/versitygw/cmd/versitygw 'a few minutes the first time'
