# shellcheck shell=bash
# Cluster add-ons: CoreDNS behind kube-dns 10.233.0.10, nodelocaldns on 169.254.25.10 on every node (as
# kubespray), the PodSecurity namespaces, and a restricted user for permission-error tests.

addons_apply() {
  local applied
  applied=$(sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@DNS_SVC_IP@|$DNS_SVC_IP|g" \
    -e "s|@NODELOCALDNS_IP@|$NODELOCALDNS_IP|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" \
    -e "s|@WORLD_RESOLVER@|$WORLD_RESOLVER|g" "$LAB_DIR/manifests/addons.yaml" | kc apply -f -)
  # A changed Corefile on a running lab: restart CoreDNS instead of waiting up to a minute for the ConfigMap
  # to reach the pods and `reload` to notice (one new pod at a time, so DNS keeps answering).
  if grep -q '^configmap/coredns configured' <<<"$applied"; then
    kc -n kube-system rollout restart deploy/coredns >/dev/null
    kc -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null
  fi
}

# A ServiceAccount that may only get/list/watch pods, with a long-lived token, as a kubeconfig.
restricted_kubeconfig() {
  local out="$LAB_STATE/kubeconfig-restricted" token
  wait_for "the restricted user's token" 60 sh -c \
    "$KUBECTL --kubeconfig '$LAB_STATE/kubeconfig' -n netdiag-lab get secret netdiag-restricted-token -o jsonpath='{.data.token}' | grep -q ."
  token=$(kc -n netdiag-lab get secret netdiag-restricted-token -o jsonpath='{.data.token}' | base64 -d)
  write_kubeconfig "$out" netdiag-lab-restricted netdiag-restricted default "    token: $token"
}

wait_system_pods() {
  wait_for "CoreDNS and nodelocaldns to be ready" 180 sh -c \
    "$KUBECTL --kubeconfig '$LAB_STATE/kubeconfig' -n kube-system rollout status deploy/coredns --timeout=5s &&
     $KUBECTL --kubeconfig '$LAB_STATE/kubeconfig' -n kube-system rollout status ds/nodelocaldns --timeout=5s"
}
