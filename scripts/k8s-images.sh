#!/usr/bin/env bash
# Builds the images the end-to-end cluster runs, with no Docker engine and no image
# registry (none is reachable from this kind of machine):
#
#   pause        the pod sandbox image: a static C program that sleeps until told to
#                stop and reaps what it inherits, in an otherwise empty image.
#   base         the Dockerfile's NODE_IMAGE: Debian bookworm (debootstrap minbase,
#                from the machine's own Debian mirror) plus the machine's own node and
#                npm, and the machine's CA bundle so that `npm ci` in the build trusts
#                the registry the machine is set up for.
#   quorumkv     the project's Dockerfile, unchanged, built with
#                `buildah bud --isolation chroot --pull-never --network host
#                --build-arg NODE_IMAGE=<base>`, tagged quorumkv:<chart appVersion>
#                (the chart's default tag) and quorumkv:e2e-second (a second tag for
#                upgrade tests; the same image).
#
# Each image is written as a docker-archive file into the cache; scripts/k8s-cluster.sh
# imports them into its containerd. Cached: an image is rebuilt only when its inputs
# change (the pause source; the Debian suite and node's version; the sha256 of every file
# the Dockerfile copies, and the base). Prints, as its last line, the directory of the
# archives.
#
# Environment: QKV_K8S_CACHE_DIR (as scripts/k8s-test-env.sh), QKV_DEBIAN_SUITE
# (bookworm), QKV_DEBIAN_MIRROR (default: the first Debian mirror of the machine's apt
# sources).
set -euo pipefail
cd "$(dirname "$0")/.."

cache_dir="${QKV_K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
images_dir="$cache_dir/images"
suite="${QKV_DEBIAN_SUITE:-bookworm}"
# buildah's own storage, apart from any system one; vfs because overlay mounts are not
# certain to work inside this kind of VM.
buildah_storage=("--root" "$cache_dir/buildah/root" "--runroot" "$cache_dir/buildah/run" "--storage-driver" "vfs")
mkdir -p "$images_dir"

log() { printf '[k8s-images] %s\n' "$*" >&2; }
for tool in buildah debootstrap gcc node npm; do
  command -v "$tool" >/dev/null || { log "missing $tool: run scripts/k8s-node-env.sh first"; exit 1; }
done
bah() { buildah "${buildah_storage[@]}" "$@"; }

# Writes the archive only when its key file differs from the inputs' key.
up_to_date() { [ -f "$images_dir/$1.tar" ] && [ "$(cat "$images_dir/$1.key" 2>/dev/null)" = "$2" ]; }

pause_source='
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
/* The pod sandbox: PID 1 of the pod'"'"'s namespaces. It must outlive the containers,
   exit on SIGTERM/SIGINT, and reap zombies it inherits. */
static void stop(int signal_number) { (void)signal_number; _exit(0); }
static void reap(int signal_number) { (void)signal_number; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
'

build_pause() {
  local key
  key="$(printf '%s' "$pause_source" | sha256sum | cut -c1-16)"
  up_to_date pause "$key" && return
  local started=$SECONDS work
  work="$(mktemp -d)"
  printf '%s' "$pause_source" >"$work/pause.c"
  gcc -static -O2 -o "$work/pause" "$work/pause.c"
  local container
  container="$(bah from scratch)"
  bah copy "$container" "$work/pause" /pause >/dev/null
  bah config --entrypoint '["/pause"]' "$container"
  bah commit -q "$container" localhost/qkv-pause:1 >/dev/null
  bah rm "$container" >/dev/null
  rm -f "$images_dir/pause.tar"
  bah push -q localhost/qkv-pause:1 "docker-archive:$images_dir/pause.tar:localhost/qkv-pause:1"
  echo "$key" >"$images_dir/pause.key"
  rm -rf "$work"
  log "pause image built in $((SECONDS - started)) s"
}

debian_mirror() {
  if [ -n "${QKV_DEBIAN_MIRROR:-}" ]; then echo "$QKV_DEBIAN_MIRROR"; return; fi
  local mirror
  mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' | head -n 1)"
  [ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\+\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)"
  [ -n "$mirror" ] || { log "no Debian mirror in the apt sources: set QKV_DEBIAN_MIRROR"; exit 1; }
  echo "$mirror"
}

base_key() { printf '%s %s %s' "$suite" "$(node --version)" "$(npm --version)" | sha256sum | cut -c1-16; }

build_base() {
  local key
  key="$(base_key)"
  # The base lives only in buildah's storage (the Dockerfile's FROM reads it there).
  if bah inspect "localhost/qkv-node-base:$key" >/dev/null 2>&1; then return; fi
  local started=$SECONDS work mirror
  work="$(mktemp -d)"
  mirror="$(debian_mirror)"
  log "debootstrap --variant=minbase $suite (first time only)"
  debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # The machine's node (a self-contained binary that needs only libc and libstdc++,
  # both in minbase) and its npm, in the places the official node images use.
  install -m 0755 "$(readlink -f "$(command -v node)")" "$work/rootfs/usr/local/bin/node"
  local npm_dir
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  mkdir -p "$work/rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$work/rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  mkdir -p "$work/rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/qkv-build-ca-bundle.crt"
  # Leave the rootfs small: apt lists and caches are not needed at run time.
  rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*
  local container
  container="$(bah from scratch)"
  bah copy "$container" "$work/rootfs/" / >/dev/null
  bah config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/qkv-build-ca-bundle.crt \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["node"]' "$container"
  bah commit -q "$container" "localhost/qkv-node-base:$key" >/dev/null
  bah rm "$container" >/dev/null
  rm -rf "$work"
  log "base image built in $((SECONDS - started)) s"
}

app_version() { sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' helm/quorumkv/Chart.yaml; }

# Everything the Dockerfile copies, and the Dockerfile itself.
quorumkv_key() {
  {
    base_key
    # The same set as the build context: .dockerignore leaves these scripts out.
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json proto scripts src -type f \
      ! -path scripts/k8s-cluster.sh ! -path scripts/k8s-images.sh ! -path scripts/k8s-node-env.sh -print0 |
      sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

build_quorumkv() {
  local key version
  key="$(quorumkv_key)"
  version="$(app_version)"
  up_to_date quorumkv "$key" && return
  local started=$SECONDS
  log "buildah bud of the Dockerfile as quorumkv:$version"
  bah bud --isolation chroot --pull-never --network host --layers=false \
    --build-arg "NODE_IMAGE=localhost/qkv-node-base:$(base_key)" \
    -t "localhost/quorumkv:$version" -f Dockerfile . >&2
  bah tag "localhost/quorumkv:$version" localhost/quorumkv:e2e-second
  rm -f "$images_dir/quorumkv.tar"
  # docker.io/library/ names, so that the chart's `image.repository: quorumkv` resolves
  # to them in containerd.
  bah push -q "localhost/quorumkv:$version" \
    "docker-archive:$images_dir/quorumkv.tar:docker.io/library/quorumkv:$version"
  rm -f "$images_dir/quorumkv-second.tar"
  bah push -q localhost/quorumkv:e2e-second \
    "docker-archive:$images_dir/quorumkv-second.tar:docker.io/library/quorumkv:e2e-second"
  echo "$key" >"$images_dir/quorumkv.key"
  log "quorumkv image built in $((SECONDS - started)) s"
}

build_pause
build_base
build_quorumkv
echo "$images_dir"
