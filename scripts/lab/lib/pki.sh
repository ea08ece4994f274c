# shellcheck shell=bash
# A private CA and the certificates of every component, made with openssl. Regenerated only when missing, so
# a kubeconfig handed out earlier keeps working across `up`.

pki_cert() {
  local name=$1 cn=$2 org=$3 sans=${4:-}
  local dir="$LAB_STATE/pki"
  [[ -f $dir/$name.crt ]] && return 0
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$ext"
  local subj="/CN=$cn"
  [[ -n $org ]] && subj="/O=$org$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
}

# write_kubeconfig OUT CONTEXT USER NAMESPACE CREDENTIAL-LINES: a kubeconfig for the lab's API server.
write_kubeconfig() {
  local out=$1 context=$2 user=$3 namespace=$4 credentials=$5
  cat >"$out" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: netdiag-lab
  cluster:
    server: https://$HOST_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$LAB_STATE/pki/ca.crt")
users:
- name: $user
  user:
$credentials
contexts:
- name: $context
  context:
    cluster: netdiag-lab
    user: $user
    namespace: $namespace
current-context: $context
YAML
}

kubeconfig_for() {
  local name=$1 user=$2
  local out="$LAB_STATE/$name.kubeconfig"
  [[ -f $out ]] && return 0
  write_kubeconfig "$out" netdiag-lab "$user" default \
    "    client-certificate-data: $(base64 -w0 <"$LAB_STATE/pki/$name.crt")
    client-key-data: $(base64 -w0 <"$LAB_STATE/pki/$name.key")"
}

pki_all() {
  local dir="$LAB_STATE/pki"
  mkdir -p "$dir"
  if [[ ! -f $dir/ca.crt ]]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -days 3650 \
      -subj "/CN=netdiag-lab-ca" -out "$dir/ca.crt" 2>/dev/null
  fi
  [[ -f $dir/sa.key ]] || {
    openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  }
  pki_cert apiserver kube-apiserver "" \
    "IP:$HOST_IP,IP:$KUBERNETES_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  pki_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  pki_cert admin netdiag-lab-admin system:masters
  pki_cert controller-manager system:kube-controller-manager ""
  pki_cert scheduler system:kube-scheduler ""
  pki_cert kube-proxy system:kube-proxy system:node-proxier
  kubeconfig_for admin netdiag-lab-admin
  kubeconfig_for controller-manager system:kube-controller-manager
  kubeconfig_for scheduler system:kube-scheduler
  kubeconfig_for kube-proxy system:kube-proxy
  local i
  for ((i = 1; i <= $(worker_count); i++)); do
    pki_cert "kubelet-worker$i" "system:node:$(worker_fqdn "$i")" system:nodes "DNS:$(worker_fqdn "$i"),IP:$(worker_ip "$i")"
    kubeconfig_for "kubelet-worker$i" "system:node:$(worker_fqdn "$i")"
  done
  cp "$LAB_STATE/admin.kubeconfig" "$LAB_STATE/kubeconfig"
}
