#!/usr/bin/env bash
# Sets up the binaries the Kubernetes tests run: a real kube-apiserver, etcd and helm
# (the envtest approach: an API server with no kubelet and no controllers).
#
# Idempotent: each binary is built once into a cache outside the repository and reused.
# Prints, as its last line, the directory to put in QKV_K8S_BIN_DIR (the tests also find
# it on their own at the same default place).
#
#   kube-apiserver  built with the Go toolchain from Go modules. k8s.io/kubernetes points
#                   its k8s.io/* staging modules at ./staging with replace directives, and
#                   the module zip has no staging tree, so `go install ...@vX` refuses it.
#                   We build it from a throw-away module that requires k8s.io/kubernetes
#                   and replaces each staging module with its published v0.X release.
#   etcd            Debian's etcd-server package.
#   helm            built from Go modules (helm.sh/helm/v3/cmd/helm).
#   cert-manager    its CRDs only (no controller), for the chart's tls.mode=certManager:
#                   the Go module github.com/cert-manager/cert-manager holds them under
#                   deploy/crds as Helm templates; the test strips the template labels.
#
# Environment: QKV_K8S_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv),
# QKV_KUBE_VERSION, QKV_HELM_VERSION, QKV_CERT_MANAGER_VERSION.
set -euo pipefail

kube_version="${QKV_KUBE_VERSION:-1.34.4}"
helm_version="${QKV_HELM_VERSION:-v3.19.0}"
cert_manager_version="${QKV_CERT_MANAGER_VERSION:-v1.16.5}"
cache_dir="${QKV_K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
bin_dir="$cache_dir/k8s-$kube_version/bin"
mkdir -p "$bin_dir"

log() { printf '[k8s-test-env] %s\n' "$*" >&2; }
# shellcheck source=scripts/kube-go-module.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube-go-module.sh"

# Pre-built toolchains cannot be downloaded here, so everything is built with the
# machine's Go. Both kube-apiserver and helm need cgo off to be static and portable.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

# The etcd on PATH, resolved to the real file: with the bin dir itself first on PATH,
# `command -v etcd` names our own link, and linking that to itself would break it.
link_system_etcd() {
  local found
  found=$(command -v etcd 2>/dev/null) && found=$(readlink -f "$found") && [ -x "$found" ] || return 1
  ln -sf "$found" "$bin_dir/etcd"
}

install_etcd() {
  if link_system_etcd; then return; fi
  log "installing Debian's etcd-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends etcd-server
  # Debian starts a system etcd on 2379; the tests run their own on free ports, and a
  # second etcd is only a waste, so stop the packaged service when systemd runs one.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
  link_system_etcd
}

build_kube_apiserver() {
  local target="$bin_dir/kube-apiserver"
  if [ -x "$target" ]; then return; fi
  local started=$SECONDS
  local work="$cache_dir/build/kube-apiserver-$kube_version"
  rm -rf "$work"
  mkdir -p "$work"
  log "building kube-apiserver v$kube_version from Go modules (first time only; takes minutes)"
  write_kube_go_mod "$work" qkvtest/kubeapiserverbuild "$kube_version"
  printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' >"$work/tools.go"
  (
    cd "$work"
    go mod tidy
    go build -trimpath -o "$target.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$kube_version \
        -X k8s.io/component-base/version.gitMajor=1 \
        -X k8s.io/component-base/version.gitMinor=${kube_version#1.} \
        -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$target.tmp" "$target"
  log "kube-apiserver built in $((SECONDS - started)) s"
}

build_helm() {
  local target="$bin_dir/helm"
  if [ -x "$target" ]; then return; fi
  local started=$SECONDS
  log "building helm $helm_version from Go modules (first time only)"
  # The same version stamps helm's Makefile sets; without them helm assumes a
  # Kubernetes 1.20 client and refuses charts that ask for a newer kubeVersion.
  local k8s_minor=34
  GOBIN="$bin_dir" go install -trimpath -ldflags "-s -w \
      -X helm.sh/helm/v3/internal/version.version=$helm_version \
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    "helm.sh/helm/v3/cmd/helm@$helm_version"
  log "helm built in $((SECONDS - started)) s"
}

fetch_cert_manager_crds() {
  local target="$bin_dir/cert-manager-crds"
  if [ -f "$target/VERSION" ] && [ "$(cat "$target/VERSION")" = "$cert_manager_version" ]; then return; fi
  log "fetching cert-manager $cert_manager_version's CRDs from its Go module"
  local module_dir
  module_dir="$(cd "$cache_dir" && go mod download -json "github.com/cert-manager/cert-manager@$cert_manager_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$module_dir/deploy/crds" ] || { log "no deploy/crds in github.com/cert-manager/cert-manager@$cert_manager_version"; exit 1; }
  rm -rf "$target.tmp"
  mkdir -p "$target.tmp"
  cp "$module_dir"/deploy/crds/crd-*.yaml "$target.tmp/"
  echo "$cert_manager_version" >"$target.tmp/VERSION"
  rm -rf "$target"
  mv "$target.tmp" "$target"
}

install_etcd
build_kube_apiserver
build_helm
fetch_cert_manager_crds
log "ready: $(ls "$bin_dir" | tr '\n' ' ')"
echo "$bin_dir"
