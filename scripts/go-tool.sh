# Sourced by scripts/grpcurl-env.sh, scripts/s3-test-env.sh and scripts/ghz-env.sh: builds
# one Go command once into the tools cache outside the repository, with the machine's Go
# from the Go module proxy (no prebuilt binary can be downloaded here), and prints its
# path as the last line. Idempotent: a binary already in the cache is not built again.
#
# Environment: QKV_TOOLS_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv).
#
# install_go_tool LOG_TAG NAME VERSION PACKAGE HOW_LONG
#   builds PACKAGE@VERSION as $cache/NAME-VERSION/bin/NAME; HOW_LONG goes in the log line.
install_go_tool() {
  local log_tag="$1" name="$2" version="$3" package="$4" how_long="$5"
  local cache_dir="${QKV_TOOLS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
  local bin_dir="$cache_dir/$name-$version/bin"
  mkdir -p "$bin_dir"
  if [ ! -x "$bin_dir/$name" ]; then
    printf '[%s] building %s %s (%s)\n' "$log_tag" "$name" "$version" "$how_long" >&2
    GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" go install "$package@$version"
  fi
  echo "$bin_dir/$name"
}
