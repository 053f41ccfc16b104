# Sourced by scripts/k8s-test-env.sh and scripts/k8s-node-env.sh: writes the go.mod of a
# throw-away module that builds commands of k8s.io/kubernetes from the Go module proxy.
# k8s.io/kubernetes points its staging modules (k8s.io/api, k8s.io/client-go, ...) at
# ./staging, which a module download does not contain, so every such replace becomes a
# replace with the matching published release (v0.<minor>.<patch> for v1.<minor>.<patch>).
# The caller defines log().
#
# write_kube_go_mod WORK MODULE KUBE_VERSION
write_kube_go_mod() {
  local work="$1" module_name="$2" kube_version="$3"
  local gomod
  gomod="$(cd "$work" && go mod download -json "k8s.io/kubernetes@v$kube_version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@v$kube_version"; exit 1; }
  local staging_version="v0.${kube_version#1.}"
  {
    echo "module $module_name"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes v$kube_version"
    echo
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9./-]*\) => \./staging/.*#\1#p' "$gomod" | sort -u |
      while read -r module; do echo "replace $module => $module $staging_version"; done
  } >"$work/go.mod"
}
