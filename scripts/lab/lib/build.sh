# shellcheck shell=bash
# Builds (once, cached outside the checkout) everything the lab runs that Debian does not ship:
# the Kubernetes server binaries, CoreDNS, the pause binary, and the container images.

build_k8s() {
  local out="$CACHE/k8s-$K8S_VERSION/bin"
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
  local missing=0 b
  for b in "${want[@]}"; do [[ -x "$out/$b" ]] || missing=1; done
  ((missing)) || return 0
  log "building Kubernetes $K8S_VERSION server binaries from the Go module proxy (cold: ~20-30 min on 2 cores)"
  mkdir -p "$out.tmp"
  local major minor pkg ldflags
  major=${K8S_VERSION#v}; major=${major%%.*}
  minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local args=()
  for b in "${want[@]}"; do args+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$LAB_DIR/k8s" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" "${args[@]}") ||
    die "building Kubernetes failed" "see the Go error above; GOPROXY must reach the Go module proxy"
  rm -rf "$out" && mv "$out.tmp" "$out"
}
