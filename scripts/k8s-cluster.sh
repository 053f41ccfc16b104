#!/usr/bin/env bash
# A real single-node Kubernetes for the end-to-end tests, and its teardown.
#
#   bash scripts/k8s-cluster.sh up STATE_DIR     start it; prints the kubeconfig's path last
#   bash scripts/k8s-cluster.sh down STATE_DIR   stop it and put the machine back
#
# `up` starts, each as a child whose PID is recorded under STATE_DIR/pids: etcd,
# kube-apiserver (certificates made by openssl for the machine's own address, read at
# run time), kube-controller-manager, kube-scheduler, containerd (root, state and socket
# under STATE_DIR), the kubelet, kube-proxy (iptables mode) and CoreDNS; it imports the
# images of scripts/k8s-images.sh and creates a default StorageClass (no provisioner,
# WaitForFirstConsumer) with pre-created local PersistentVolumes. Run
# scripts/k8s-test-env.sh, scripts/k8s-node-env.sh and scripts/k8s-images.sh first.
#
# Addresses stay on the machine (docs/decisions/0150): pods get 198.18.0.0/24 on the
# bridge qkv-cni0 with a route to 198.18.0.0/15 only, services 198.19.0.0/16; the host
# drops forwarded traffic from the pods to anywhere else; CoreDNS answers for the
# cluster only (no upstream).
#
# `down` undoes what `up` did, also after a failed or half-done `up`: it kills the
# recorded PIDs (and the container shims of this containerd, found by its socket path),
# unmounts what is mounted under STATE_DIR, deletes the bridge, removes the iptables
# chains the cluster created (KUBE-*, QKV-E2E-*) and restores the sysctls it recorded;
# the last three only when this run held the machine's lock. One cluster runs on a machine at a time (a lock under /run).
#
# Environment: QKV_K8S_BIN_DIR (default: the cache of scripts/k8s-test-env.sh),
# QKV_E2E_IMAGES_DIR (default: the cache of scripts/k8s-images.sh), QKV_E2E_VOLUMES
# (local PVs to create, 16), QKV_E2E_STARTUP_TIMEOUT_S (120), QKV_E2E_LOCK_WAIT_S (how
# long to wait for another run's cluster to stop before giving up; 0).
set -euo pipefail

usage() { echo "usage: $0 up|down STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action="$1"
state_dir="$2"
case "$action" in up | down) ;; *) usage ;; esac

cache_dir="${QKV_K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quorumkv}"
bin_dir="${QKV_K8S_BIN_DIR:-$cache_dir/k8s-${QKV_KUBE_VERSION:-1.34.4}/bin}"
images_dir="${QKV_E2E_IMAGES_DIR:-$cache_dir/images}"
volume_count="${QKV_E2E_VOLUMES:-16}"
startup_timeout_s="${QKV_E2E_STARTUP_TIMEOUT_S:-120}"
lock_wait_s="${QKV_E2E_LOCK_WAIT_S:-0}"
lock_file=/run/quorumkv-e2e-cluster.lock

pod_subnet=198.18.0.0/24
pod_gateway=198.18.0.1
local_range=198.18.0.0/15
service_range=198.19.0.0/16
bridge=qkv-cni0
cluster_domain=cluster.local
# The sysctls the kubelet, kube-proxy and this script change; `down` writes back the
# values `up` recorded before starting anything.
sysctls=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.ip_forward
  net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet
  net.netfilter.nf_conntrack_tcp_timeout_close_wait)

log() { printf '[k8s-cluster] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

# ---------------------------------------------------------------- teardown

kill_recorded() {
  local pid_file pid name
  # The kubelet first (it would restart what is stopped), the store last.
  for name in kubelet kube-proxy coredns kube-scheduler kube-controller-manager containerd kube-apiserver etcd; do
    pid_file="$state_dir/pids/$name"
    [ -f "$pid_file" ] || continue
    pid="$(cat "$pid_file")"
    if [ "$name" = containerd ] && kill -0 "$pid" 2>/dev/null; then stop_containers; fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
  done
}

# Every pod's containers and sandbox are tasks of this containerd; their shims outlive
# containerd, so they are stopped through it, and any shim left is found by this
# containerd's socket path in its command line (it holds STATE_DIR, unique to this run).
stop_containers() {
  local socket="$state_dir/containerd/containerd.sock" task
  if [ -S "$socket" ]; then
    for task in $(ctr --address "$socket" -n k8s.io tasks list -q 2>/dev/null); do
      ctr --address "$socket" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
    for task in $(ctr --address "$socket" -n k8s.io tasks list -q 2>/dev/null); do
      ctr --address "$socket" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
    done
  fi
}

kill_shims() {
  local proc pid
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -qF -- "$state_dir/containerd/" || continue
    log "killing leftover process $pid ($(tr '\0' ' ' <"$proc/cmdline" | cut -c1-80))"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

unmount_all() {
  # Deepest first; lazily, so a busy mount does not stop the rest.
  local mount_point
  awk -v dir="$state_dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mount_point; do
    umount "$mount_point" 2>/dev/null || umount -l "$mount_point" 2>/dev/null || log "could not unmount $mount_point"
  done
  # The network namespaces containerd made for its sandboxes, if a kill left any.
  if [ -f "$state_dir/netns-before" ]; then
    local netns
    for netns in $(ls /run/netns 2>/dev/null); do
      grep -qxF "$netns" "$state_dir/netns-before" && continue
      case "$netns" in cni-*) umount "/run/netns/$netns" 2>/dev/null; rm -f "/run/netns/$netns" ;; esac
    done
  fi
}

# Chains the cluster made: kube-proxy's and the kubelet's KUBE-* and this script's
# QKV-E2E-*. Only chains that did not exist before `up` go, and nothing at all when `up`
# never recorded which existed. CNI-* chains are not ours to touch: other CNI users
# (podman) share them, and this cluster's CNI (bridge without masquerade, no portmap)
# makes none.
remove_iptables_chains() {
  local table chain rule
  for table in filter nat mangle raw; do
    local before="$state_dir/iptables-chains-before.$table"
    [ -f "$before" ] || continue
    local chains
    chains="$(iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N \(\(KUBE\|QKV-E2E\)-[^ ]*\)$/\1/p')"
    [ -n "$chains" ] || continue
    local ours=()
    for chain in $chains; do
      if grep -qxF "$chain" "$before"; then continue; fi
      ours+=("$chain")
    done
    [ ${#ours[@]} -gt 0 ] || continue
    # Rules that jump to our chains, in any chain, then the chains themselves.
    for chain in "${ours[@]}"; do
      { iptables -t "$table" -S 2>/dev/null | grep -E -- "-j $chain( |$)" || true; } | while read -r rule; do
        # shellcheck disable=SC2086 # the rule is iptables-save words
        eval "iptables -t $table ${rule/-A /-D }" 2>/dev/null || true
      done
    done
    for chain in "${ours[@]}"; do iptables -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in "${ours[@]}"; do iptables -t "$table" -X "$chain" 2>/dev/null || true; done
  done
}

restore_sysctls() {
  [ -f "$state_dir/sysctls-before" ] || return 0
  local name value
  while read -r name value; do
    [ -n "$value" ] && sysctl -q -w "$name=$value" >/dev/null 2>&1 || log "could not restore $name=$value"
  done <"$state_dir/sysctls-before"
}

# The kubelet makes a kubepods cgroup in every hierarchy; remove what is empty now.
remove_cgroups() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$hierarchy/kubepods" ] || [ -d "$hierarchy/kubepods.slice" ] || continue
    find "$hierarchy"kubepods* -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# What `down` must leave: no process, mount, bridge or chain of this cluster, and the
# sysctls as they were. Says what is left, and fails, so that a leak is seen.
verify_clean() {
  local left=()
  local proc
  for proc in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -qF -- "$state_dir/" && left+=("process ${proc#/proc/}")
  done
  local mounts
  mounts="$(awk -v dir="$state_dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | wc -l)"
  [ "$mounts" -eq 0 ] || left+=("$mounts mounts under $state_dir")
  ip link show "$bridge" >/dev/null 2>&1 && left+=("the bridge $bridge")
  local table
  for table in filter nat mangle raw; do
    iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N \(\(KUBE\|QKV-E2E\)-[^ ]*\)$/\1/p' | while read -r chain; do
      [ -f "$state_dir/iptables-chains-before.$table" ] && grep -qxF "$chain" "$state_dir/iptables-chains-before.$table" && continue
      echo "$chain"
    done >"$state_dir/chains-left.$table"
    [ -s "$state_dir/chains-left.$table" ] && left+=("iptables $table chains $(tr '\n' ' ' <"$state_dir/chains-left.$table")")
  done
  if [ -f "$state_dir/sysctls-before" ]; then
    local name value
    while read -r name value; do
      [ -z "$value" ] || [ "$(sysctl -n "$name" 2>/dev/null)" = "$value" ] || left+=("sysctl $name is $(sysctl -n "$name") (was $value)")
    done <"$state_dir/sysctls-before"
  fi
  [ ${#left[@]} -eq 0 ] && return 0
  local item
  for item in "${left[@]}"; do log "left behind: $item"; done
  return 1
}

down() {
  [ -d "$state_dir" ] || { log "no state directory $state_dir: nothing to stop"; return 0; }
  log "stopping the cluster of $state_dir"
  # Keep the lock live while its recorded processes go, or another run would take it
  # over half-way through this teardown.
  if [ "$(cut -d ' ' -f 1 "$lock_file" 2>/dev/null)" = "$state_dir" ]; then echo "$state_dir $$" >"$lock_file"; fi
  kill_recorded
  kill_shims
  unmount_all
  # The bridge, the chains, the sysctls and the cgroups are the machine's: only the
  # holder of the lock may take them back (a start-up that lost the race for the lock
  # must not tear down the cluster that won it).
  local holder
  holder="$(cut -d ' ' -f 1 "$lock_file" 2>/dev/null || true)"
  if [ ! -f "$state_dir/held-lock" ] || { [ -n "$holder" ] && [ "$holder" != "$state_dir" ]; }; then
    log "this run never held the machine (or another run holds it now): its network and sysctls are left as they are"
    return 0
  fi
  ip link del "$bridge" 2>/dev/null || true
  remove_iptables_chains
  restore_sysctls
  remove_cgroups
  rm -f "$lock_file"
  verify_clean || { log "teardown incomplete (see above); logs in $state_dir/logs"; return 1; }
  log "stopped, nothing left behind; logs kept in $state_dir/logs"
}

# ---------------------------------------------------------------- start-up

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

node_address() {
  # The machine's own address: the first global IPv4 address of its interfaces.
  ip -4 -o addr show scope global | awk '$2 != "'"$bridge"'" { split($4, a, "/"); print a[1]; exit }'
}

start() {
  local name="$1"
  shift
  "$@" >"$state_dir/logs/$name.log" 2>&1 &
  echo $! >"$state_dir/pids/$name"
}

wait_until() {
  local what="$1" deadline=$((SECONDS + startup_timeout_s))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what not ready after ${startup_timeout_s} s (logs: $state_dir/logs)"
    sleep 0.5
  done
}

make_certificates() {
  local dir="$state_dir/pki" address="$1" node="$2"
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -subj /CN=qkv-e2e-ca -days 2 -out ca.crt 2>/dev/null
    # leaf NAME SUBJECT [SAN]
    leaf() {
      openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
      else printf 'extendedKeyUsage=clientAuth\n' >"$1.ext"; fi
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver /CN=kube-apiserver "IP:$address,IP:127.0.0.1,IP:198.19.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$cluster_domain,DNS:$node"
    leaf kubelet "/CN=system:node:$node/O=system:nodes" "IP:$address,DNS:$node"
    # One client identity (system:masters) for the control plane's components, the
    # kubelet's calls and the tests: this cluster is a test fixture, not a product.
    leaf admin "/CN=qkv-e2e-admin/O=system:masters"
    openssl ecparam -name prime256v1 -genkey -noout -out service-accounts.key 2>/dev/null
    openssl ec -in service-accounts.key -pubout -out service-accounts.pub 2>/dev/null
  )
}

write_kubeconfig() {
  local address="$1" port="$2" pki="$state_dir/pki"
  cat >"$state_dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: qkv-e2e
  cluster:
    server: https://$address:$port
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: qkv-e2e
  context: {cluster: qkv-e2e, user: admin}
current-context: qkv-e2e
EOF
}

write_containerd_config() {
  local dir="$state_dir/containerd"
  mkdir -p "$dir" "$state_dir/cni/net.d" "$state_dir/cni/ipam"
  cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/qkv-pause:1"
  # This VM's bounding set lacks CAP_SYS_RESOURCE: runc cannot raise oom_score_adj,
  # and every sandbox fails without this.
  restrict_oom_score_adj = true
  # The pods' network namespaces under STATE_DIR, where teardown unmounts them.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state_dir/cni/net.d"
EOF
  cat >"$state_dir/cni/net.d/10-qkv-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "qkv-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$pod_subnet", "gateway": "$pod_gateway" }]],
        "routes": [{ "dst": "$local_range" }],
        "dataDir": "$state_dir/cni/ipam"
      }
    }
  ]
}
EOF
}

write_kubelet_config() {
  local dir="$state_dir/kubelet"
  mkdir -p "$dir" "$state_dir/pod-logs"
  # Pods with dnsPolicy Default get this; the cluster's pods get CoreDNS (clusterDNS).
  printf 'options ndots:5\n' >"$dir/resolv.conf"
  cat >"$dir/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$state_dir/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $state_dir/pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $state_dir/pki/kubelet.crt
tlsPrivateKeyFile: $state_dir/pki/kubelet.key
clusterDNS: [$pod_gateway]
clusterDomain: $cluster_domain
resolvConf: $dir/resolv.conf
podLogsDirectory: $state_dir/pod-logs
readOnlyPort: 0
# Lowering an oom_score_adj needs CAP_SYS_RESOURCE, which this kind of VM lacks.
oomScoreAdj: 0
# The images cannot be pulled again (no registry): never collect them, and do not
# evict pods for a machine that is merely full-ish.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
EOF
}

write_coredns_config() {
  cat >"$state_dir/Corefile" <<EOF
.:53 {
    bind $pod_gateway
    errors
    kubernetes $cluster_domain in-addr.arpa ip6.arpa {
        kubeconfig $state_dir/kubeconfig qkv-e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF
}

storage_objects() {
  local node="$1" index
  cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  for index in $(seq 0 $((volume_count - 1))); do
    mkdir -p "$state_dir/volumes/pv-$index"
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: qkv-e2e-pv-$index}
spec:
  capacity: {storage: 20Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  volumeMode: Filesystem
  local: {path: $state_dir/volumes/pv-$index}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$node]}
EOF
  done
}

# One cluster per machine: the lock file holds the state directory and the PID of the
# `up` that made it, created atomically (noclobber). A lock whose `up`, recorded
# processes and bridge are all gone is stale and taken over.
lock_is_live() {
  local holder pid pid_file
  read -r holder pid <"$lock_file" 2>/dev/null || return 1
  # A cluster half-way through its teardown has no processes left but still its bridge.
  ip link show "$bridge" >/dev/null 2>&1 && return 0
  [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null && return 0
  for pid_file in "$holder"/pids/*; do
    [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null && return 0
  done
  return 1
}

acquire_lock() {
  local deadline=$((SECONDS + lock_wait_s)) next_note=$SECONDS
  for (( ; ; )); do
    if (set -o noclobber; echo "$state_dir $$" >"$lock_file") 2>/dev/null; then return 0; fi
    if ! lock_is_live; then
      log "taking over the stale lock of $(cut -d ' ' -f 1 "$lock_file" 2>/dev/null)"
      rm -f "$lock_file"
      continue
    fi
    if [ $SECONDS -ge $deadline ]; then
      fail "another e2e cluster runs from $(cut -d ' ' -f 1 "$lock_file") (bash $0 down <that directory> stops it; QKV_E2E_LOCK_WAIT_S waits for it)"
    fi
    if [ $SECONDS -ge $next_note ]; then
      log "waiting for the e2e cluster of $(cut -d ' ' -f 1 "$lock_file") to stop ($((deadline - SECONDS)) s left)"
      next_note=$((SECONDS + 30))
    fi
    sleep 2
  done
}

up() {
  for binary in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl coredns helm; do
    [ -x "$bin_dir/$binary" ] || fail "missing $bin_dir/$binary: run scripts/k8s-test-env.sh and scripts/k8s-node-env.sh"
  done
  for tool in containerd runc ctr conntrack iptables openssl python3 ip; do
    command -v "$tool" >/dev/null || fail "missing $tool: run scripts/k8s-node-env.sh"
  done
  for image in pause quorumkv; do
    [ -f "$images_dir/$image.tar" ] || fail "missing $images_dir/$image.tar: run scripts/k8s-images.sh"
  done
  [ -d /usr/lib/cni ] || fail "missing /usr/lib/cni: run scripts/k8s-node-env.sh"
  mkdir -p "$state_dir"/{pids,logs}
  state_dir="$(cd "$state_dir" && pwd)"
  acquire_lock
  local started=$SECONDS # the start-up's own time, not the wait for the lock
  ip link show "$bridge" >/dev/null 2>&1 && { rm -f "$lock_file"; fail "the bridge $bridge exists already: is another cluster running?"; }
  # From here on this run changes the machine, and `down` may take back what it changed.
  : >"$state_dir/held-lock"
  trap 'status=$?; if [ $status -ne 0 ]; then log "start-up failed; tearing down"; down; fi' EXIT

  local name
  for name in "${sysctls[@]}"; do echo "$name $(sysctl -n "$name" 2>/dev/null)"; done >"$state_dir/sysctls-before"
  for table in filter nat mangle raw; do
    iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N //p' >"$state_dir/iptables-chains-before.$table"
  done
  ls /run/netns 2>/dev/null >"$state_dir/netns-before" || : >"$state_dir/netns-before"

  local address node etcd_port etcd_peer_port api_port
  address="$(node_address)"
  [ -n "$address" ] || fail "no global IPv4 address on this machine"
  node="$(hostname | tr '[:upper:]' '[:lower:]')"
  etcd_port="$(free_port)"
  etcd_peer_port="$(free_port)"
  api_port="$(free_port)"
  log "node $node at $address; API server on port $api_port"
  make_certificates "$address" "$node"
  write_kubeconfig "$address" "$api_port"
  write_containerd_config
  write_kubelet_config
  write_coredns_config

  # The pods' network: the bridge exists before CoreDNS binds its gateway address, and
  # the host forwards between pods and services (kube-proxy's DNAT) but never from the
  # pods to the world.
  ip link add "$bridge" type bridge
  ip addr add "$pod_gateway/24" dev "$bridge"
  ip link set "$bridge" up
  sysctl -q -w net.ipv4.ip_forward=1
  sysctl -q -w net.bridge.bridge-nf-call-iptables=1
  iptables -N QKV-E2E-FORWARD
  iptables -A QKV-E2E-FORWARD -s "$pod_subnet" ! -d "$local_range" -j DROP
  iptables -I FORWARD 1 -j QKV-E2E-FORWARD

  local pki="$state_dir/pki"
  start etcd "$bin_dir/etcd" --name qkv-e2e --data-dir "$state_dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "qkv-e2e=http://127.0.0.1:$etcd_peer_port"
  start kube-apiserver "$bin_dir/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$address" --advertise-address "$address" --secure-port "$api_port" \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-key-file "$pki/service-accounts.pub" --service-account-signing-key-file "$pki/service-accounts.key" \
    --service-account-issuer "https://kubernetes.default.svc.$cluster_domain" \
    --service-cluster-ip-range "$service_range" --authorization-mode Node,RBAC --allow-privileged=true
  wait_until "kube-apiserver" "$bin_dir/kubectl" --kubeconfig "$state_dir/kubeconfig" get --raw /readyz
  start kube-controller-manager "$bin_dir/kube-controller-manager" --kubeconfig "$state_dir/kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/service-accounts.key" --root-ca-file "$pki/ca.crt" \
    --service-cluster-ip-range "$service_range" --cluster-name qkv-e2e
  start kube-scheduler "$bin_dir/kube-scheduler" --kubeconfig "$state_dir/kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
  start containerd containerd --config "$state_dir/containerd/config.toml"
  wait_until "containerd" ctr --address "$state_dir/containerd/containerd.sock" version
  local image
  for image in pause quorumkv quorumkv-second; do
    [ -f "$images_dir/$image.tar" ] || continue
    ctr --address "$state_dir/containerd/containerd.sock" -n k8s.io images import "$images_dir/$image.tar" >/dev/null
  done
  start kubelet "$bin_dir/kubelet" --config "$state_dir/kubelet/config.yaml" --kubeconfig "$state_dir/kubeconfig" \
    --root-dir "$state_dir/kubelet/root" --hostname-override "$node" --node-ip "$address"
  start kube-proxy "$bin_dir/kube-proxy" --kubeconfig "$state_dir/kubeconfig" --proxy-mode iptables \
    --hostname-override "$node" --cluster-cidr "$pod_subnet" \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --oom-score-adj 0 \
    --metrics-bind-address "" --healthz-bind-address 127.0.0.1:10256
  start coredns "$bin_dir/coredns" -conf "$state_dir/Corefile"
  wait_until "the node" "$bin_dir/kubectl" --kubeconfig "$state_dir/kubeconfig" wait --for=condition=Ready "node/$node" --timeout=2s
  storage_objects "$node" | "$bin_dir/kubectl" --kubeconfig "$state_dir/kubeconfig" apply -f - >/dev/null
  wait_until "the default service account" "$bin_dir/kubectl" --kubeconfig "$state_dir/kubeconfig" get serviceaccount default
  trap - EXIT
  log "cluster up in $((SECONDS - started)) s"
  echo "$state_dir/kubeconfig"
}

if [ "$action" = up ]; then up; else
  state_dir="$(cd "$state_dir" 2>/dev/null && pwd || echo "$state_dir")"
  down
fi
