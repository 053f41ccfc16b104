#!/usr/bin/env bash
# Prepares podman and podman-compose (Debian's) to run deploy/compose.yaml for the
# compose test (test/e2e/compose.test.ts), with no Docker engine and no registry:
#
#   - installs podman, podman-compose, runc and the CNI dnsname plugin (the services
#     find each other by name) when missing (apt);
#   - writes podman's settings into the cache, apart from the machine's own:
#     containers.conf (runc, not crun: crun refuses this VM's hybrid cgroup v1/v2;
#     cgroupfs, no systemd; lowered nofile and nproc limits: runc cannot raise them to
#     podman's defaults without CAP_SYS_RESOURCE, which this VM's bounding set lacks;
#     container networks from 198.18.128.0/20, the benchmarking range, as the Kubernetes
#     e2e does, their CNI files in the cache too) and storage.conf (vfs storage under the cache: overlay mounts are not
#     certain to work inside this kind of VM);
#   - loads the quorumkv image that scripts/k8s-images.sh built (QKV_E2E_IMAGES_DIR,
#     default its cache), when it changed.
#
# Prints, as its last line, the directory of the two files: the test points
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF at them (QKV_PODMAN_CONF_DIR).
set -euo pipefail

cache_dir="${QKV_K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
images_dir="${QKV_E2E_IMAGES_DIR:-$cache_dir/images}"
conf_dir="$cache_dir/podman"
log() { printf '[compose-env] %s\n' "$*" >&2; }

missing=()
for package in podman podman-compose runc golang-github-containernetworking-plugin-dnsname; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Never above this shell's own hard limits: lowering a limit needs no capability.
nofile=$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))
nproc=4096
mkdir -p "$conf_dir"
cat >"$conf_dir/containers.conf" <<EOF
# Written by scripts/compose-env.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_config_dir = "$conf_dir/networks"
default_subnet = "198.18.127.0/24"
default_subnet_pools = [{ base = "198.18.128.0/20", size = 24 }]
EOF
cat >"$conf_dir/storage.conf" <<EOF
# Written by scripts/compose-env.sh.
[storage]
driver = "vfs"
graphroot = "$conf_dir/storage"
runroot = "$conf_dir/run"
EOF
export CONTAINERS_CONF="$conf_dir/containers.conf" CONTAINERS_STORAGE_CONF="$conf_dir/storage.conf"

archive="$images_dir/quorumkv.tar"
[ -f "$archive" ] || { log "no $archive: run scripts/k8s-images.sh first"; exit 1; }
key="$(cat "$images_dir/quorumkv.key")"
if [ "$(cat "$conf_dir/quorumkv.key" 2>/dev/null)" != "$key" ]; then
  log "loading the quorumkv image into podman"
  podman load -q -i "$archive" >&2
  echo "$key" >"$conf_dir/quorumkv.key"
fi
echo "$conf_dir"
