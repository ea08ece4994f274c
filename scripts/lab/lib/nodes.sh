# shellcheck shell=bash
# A worker is a network namespace running its own containerd, kubelet and kube-proxy. They share the host's
# mount namespace (kubelet's volume mounts must be visible to containerd), so every path is per worker.

CGROUP_V1=/sys/fs/cgroup
CGROUP_CONTROLLERS=(cpu cpuacct cpuset memory pids blkio devices freezer systemd hugetlb)

cgroup_root() { echo "/netdiag-lab/worker$1"; }

# kubelet refuses a cgroupRoot that does not exist; cpuset children start empty and must inherit cpus/mems.
make_cgroup_root() {
  local path=$1 c level dir
  for c in "${CGROUP_CONTROLLERS[@]}"; do
    [[ -d $CGROUP_V1/$c ]] || continue
    dir=$CGROUP_V1/$c
    for level in ${path//\// }; do
      dir=$dir/$level
      mkdir -p "$dir"
      if [[ $c == cpuset ]]; then
        [[ -n $(<"$dir/cpuset.cpus") ]] || cat "${dir%/*}/cpuset.cpus" >"$dir/cpuset.cpus"
        [[ -n $(<"$dir/cpuset.mems") ]] || cat "${dir%/*}/cpuset.mems" >"$dir/cpuset.mems"
      fi
    done
  done
}

# Removes the lab's cgroups bottom-up (only empty ones can go; processes are gone by then).
remove_cgroups() {
  local c
  # runc also mirrors containers into the cgroup2 hierarchy mounted at unified/ (hybrid mode).
  for c in "${CGROUP_CONTROLLERS[@]}" unified; do
    [[ -d $CGROUP_V1/$c/netdiag-lab ]] || continue
    find "$CGROUP_V1/$c/netdiag-lab" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

write_node_config() {
  local i=$1
  local dir run name fqdn
  dir=$(worker_dir "$i")
  run=$(worker_run "$i")
  name=$(worker_name "$i")
  fqdn=$(worker_fqdn "$i")
  mkdir -p "$dir/cni-conf" "$dir/cni-state" "$dir/kubelet" "$dir/pod-logs" "$dir/containerd" "$run" "$dir/opt"
  cat >"$dir/containerd.toml" <<TOML
version = 2
root = "$dir/containerd"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$run/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  # This machine withholds CAP_SYS_RESOURCE, so runc may not lower a container's oom_score_adj below
  # containerd's own (kubelet asks -998 for sandboxes); clamp instead of failing every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni-conf"
    max_conf_num = 1
TOML
  cat >"$dir/cni-conf/10-netdiag-lab.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "netdiag-lab",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni-state",
        "ranges": [[{ "subnet": "$(worker_pod_cidr "$i")" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  cat >"$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(worker_ip "$i")
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $LAB_STATE/pki/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $LAB_STATE/pki/kubelet-$name.crt
tlsPrivateKeyFile: $LAB_STATE/pki/kubelet-$name.key
cgroupDriver: cgroupfs
cgroupRoot: $(cgroup_root "$i")
containerRuntimeEndpoint: unix://$run/containerd.sock
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$NODELOCALDNS_IP]
resolvConf: ""
podLogsDir: $dir/pod-logs
failSwapOn: false
serializeImagePulls: false
maxPods: 60
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusReportFrequency: 20s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "200Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
YAML
  cat >"$dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $LAB_STATE/kube-proxy.kubeconfig }
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $fqdn
bindAddress: $(worker_ip "$i")
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
}

start_node() {
  local i=$1
  local dir run name
  dir=$(worker_dir "$i")
  run=$(worker_run "$i")
  name=$(worker_name "$i")
  make_cgroup_root "$(cgroup_root "$i")"
  write_node_config "$i"
  start_daemon "containerd-$name" nsenter --net="/run/netns/$(worker_netns "$i")" -- containerd --config "$dir/containerd.toml"
  wait_for "containerd on $name" 60 ctr --address "$run/containerd.sock" version
}

import_images() {
  local i=$1 archive run
  run=$(worker_run "$i")
  for archive in "$CACHE/images/pause.tar" "$CACHE/images/coredns-$COREDNS_VERSION.tar" "$TOOLS_ARCHIVE"; do
    ctr --address "$run/containerd.sock" -n k8s.io images import --no-unpack "$archive" >/dev/null ||
      die "importing $(basename "$archive") into worker$i failed" "see $LAB_STATE/logs/containerd-worker$i.log"
  done
}

start_kubelet() {
  local i=$1
  local dir name
  dir=$(worker_dir "$i")
  name=$(worker_name "$i")
  start_daemon "kubelet-$name" nsenter --net="/run/netns/$(worker_netns "$i")" -- "$(K8S_BIN kubelet)" \
    --config="$dir/kubelet.yaml" --kubeconfig="$LAB_STATE/kubelet-$name.kubeconfig" --root-dir="$dir/kubelet" \
    --hostname-override="$(worker_fqdn "$i")" --node-ip="$(worker_ip "$i")" --v=1
  start_kube_proxy "$i"
}

start_kube_proxy() {
  local i=$1
  start_daemon "kube-proxy-$(worker_name "$i")" nsenter --net="/run/netns/$(worker_netns "$i")" -- \
    "$(K8S_BIN kube-proxy)" --config="$(worker_dir "$i")/kube-proxy.yaml" --v=1
}

# The lab assigns pod subnets itself (nodeipam is off) so that routes and CNI ranges are known in advance.
assign_pod_cidr() {
  local i=$1 fqdn cidr
  fqdn=$(worker_fqdn "$i")
  cidr=$(worker_pod_cidr "$i")
  wait_for "node $fqdn to register" 120 kc get node "$fqdn"
  [[ $(kc get node "$fqdn" -o jsonpath='{.spec.podCIDR}') == "$cidr" ]] ||
    kc patch node "$fqdn" --type merge -p "{\"spec\":{\"podCIDR\":\"$cidr\",\"podCIDRs\":[\"$cidr\"]}}" >/dev/null
}
