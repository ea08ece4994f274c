# shellcheck shell=bash
# The control plane as host processes: etcd (Debian), kube-apiserver, kube-controller-manager, kube-scheduler.

K8S_BIN() { echo "$CACHE/k8s-$K8S_VERSION/bin/$1"; }

start_etcd() {
  mkdir -p "$VAR_DIR/etcd"
  chmod 700 "$VAR_DIR/etcd"
  start_daemon etcd etcd --name netdiag-lab --data-dir "$VAR_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "netdiag-lab=http://127.0.0.1:$ETCD_PEER_PORT" --quota-backend-bytes 2147483648 \
    --auto-compaction-retention 1h --log-level warn
  wait_for "etcd" 60 curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
  local pki="$LAB_STATE/pki"
  start_daemon kube-apiserver "$(K8S_BIN kube-apiserver)" \
    --advertise-address="$HOST_IP" --bind-address="$HOST_IP" --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range=30000-32767 \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --anonymous-auth=false \
    --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --profiling=false --v=1
  wait_for "kube-apiserver" 120 kc get --raw /readyz
}

start_controllers() {
  start_controller_manager
  start_daemon kube-scheduler "$(K8S_BIN kube-scheduler)" \
    --kubeconfig="$LAB_STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$LAB_STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$LAB_STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --profiling=false --v=1
}

start_controller_manager() {
  local pki="$LAB_STATE/pki"
  start_daemon kube-controller-manager "$(K8S_BIN kube-controller-manager)" \
    --kubeconfig="$LAB_STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$LAB_STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$LAB_STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials=true --service-cluster-ip-range="$SERVICE_CIDR" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --controllers='*,-nodeipam,-cloud-node-lifecycle' --profiling=false --v=1
}

# /healthz is readable without credentials (--authorization-always-allow-paths' default).
controller_manager_healthy() { curl -sfk https://127.0.0.1:10257/healthz >/dev/null; }
