#!/usr/bin/env bash
# Sets up everything a real single-node Kubernetes needs on this kind of machine (the
# end-to-end tier's cluster, scripts/k8s-cluster.sh): the node's Debian packages and
# the Kubernetes components that scripts/k8s-test-env.sh does not build.
#
# Idempotent and cached like scripts/k8s-test-env.sh, into the same per-version
# directory: a binary is built only when it is missing, and the directory's name holds
# the version, so a new version builds anew. Run scripts/k8s-test-env.sh first (it
# builds kube-apiserver and helm and installs etcd). Prints, as its last line, the bin
# directory (the same one as scripts/k8s-test-env.sh prints).
#
#   Debian          containerd + runc (crun refuses this VM's hybrid cgroup v1/v2),
#                   containernetworking-plugins (bridge, host-local, portmap, loopback
#                   in /usr/lib/cni), conntrack and iptables (kube-proxy's iptables mode),
#                   buildah and debootstrap (every image is built here: no registry of
#                   images is reachable), gcc + libc6-dev (the static pause program).
#   kubelet, kube-controller-manager, kube-scheduler, kube-proxy, kubectl
#                   Go modules, built exactly like kube-apiserver (see k8s-test-env.sh).
#   coredns         Go module github.com/coredns/coredns, cgo off (cluster DNS: helm
#                   test's pods and the peers' headless-service names need it).
#
# Environment: QKV_K8S_CACHE_DIR, QKV_KUBE_VERSION (as k8s-test-env.sh),
# QKV_COREDNS_VERSION.
set -euo pipefail

kube_version="${QKV_KUBE_VERSION:-1.34.4}"
coredns_version="${QKV_COREDNS_VERSION:-v1.12.4}"
cache_dir="${QKV_K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
bin_dir="$cache_dir/k8s-$kube_version/bin"
mkdir -p "$bin_dir"

log() { printf '[k8s-node-env] %s\n' "$*" >&2; }
# shellcheck source=scripts/kube-go-module.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube-go-module.sh"

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

install_packages() {
  local packages=(containerd runc containernetworking-plugins conntrack iptables buildah debootstrap gcc libc6-dev)
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local started=$SECONDS
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # Debian's containerd package starts a system containerd where systemd runs; the
  # cluster script runs its own on its own socket, so stop the packaged one.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now containerd >/dev/null 2>&1 || true
  fi
  log "packages installed in $((SECONDS - started)) s"
}

# One throw-away module for all Kubernetes commands: it requires k8s.io/kubernetes and
# points each staging module at its published release (why: see k8s-test-env.sh).
prepare_kube_module() {
  local work="$1"
  [ -f "$work/go.sum" ] && return
  rm -rf "$work"
  mkdir -p "$work"
  write_kube_go_mod "$work" qkvtest/kubenodebuild "$kube_version"
  # `go mod tidy` keeps only what is imported: import every command's packages.
  cat >"$work/tools.go" <<'EOF'
package main

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
EOF
  (cd "$work" && go mod tidy)
}

build_kube_command() {
  local name="$1" target="$bin_dir/$1"
  [ -x "$target" ] && return
  local work="$cache_dir/build/kube-node-$kube_version"
  prepare_kube_module "$work"
  local started=$SECONDS
  log "building $name v$kube_version from Go modules (first time only; takes minutes)"
  (
    cd "$work"
    go build -trimpath -o "$target.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$kube_version \
        -X k8s.io/component-base/version.gitMajor=1 \
        -X k8s.io/component-base/version.gitMinor=${kube_version#1.} \
        -X k8s.io/component-base/version.gitTreeState=clean \
        -X k8s.io/client-go/pkg/version.gitVersion=v$kube_version \
        -X k8s.io/client-go/pkg/version.gitMajor=1 \
        -X k8s.io/client-go/pkg/version.gitMinor=${kube_version#1.}" \
      "k8s.io/kubernetes/cmd/$name"
  )
  mv "$target.tmp" "$target"
  log "$name built in $((SECONDS - started)) s"
}

build_coredns() {
  local dir="$cache_dir/coredns-$coredns_version/bin"
  local target="$dir/coredns"
  [ -x "$target" ] || {
    local started=$SECONDS
    mkdir -p "$dir"
    log "building coredns $coredns_version from Go modules (first time only)"
    GOBIN="$dir" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$coredns_version"
    log "coredns built in $((SECONDS - started)) s"
  }
  ln -sf "$target" "$bin_dir/coredns"
}

install_packages
for command in kubectl kube-scheduler kube-proxy kube-controller-manager kubelet; do
  build_kube_command "$command"
done
build_coredns
log "ready: $(ls "$bin_dir" | tr '\n' ' ')"
echo "$bin_dir"
