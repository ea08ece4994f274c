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

build_coredns() {
  local out="$CACHE/coredns-$COREDNS_VERSION"
  [[ -x "$out/coredns" ]] && return 0
  log "building CoreDNS $COREDNS_VERSION from the Go module proxy"
  rm -rf "$out.tmp"
  CGO_ENABLED=0 GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION" ||
    die "building CoreDNS failed" "see the Go error above"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

# Our own pause: a static binary from scripts/lab/pause.c, so the sandbox image needs no registry.
build_pause() {
  local out="$CACHE/pause/pause"
  [[ -x $out && $out -nt "$LAB_DIR/pause.c" ]] && return 0
  mkdir -p "$(dirname "$out")"
  gcc -static -Os -s -o "$out" "$LAB_DIR/pause.c" || die "compiling pause failed" "apt-get install gcc libc6-dev"
}

# Single-file images: a static binary in an otherwise empty root filesystem.
image_from_binary() {
  local archive=$1 tag=$2 binary=$3 name=$4
  local root
  root=$(mktemp -d)
  install -D -m 0755 "$binary" "$root/$name"
  mkdir -p "$root/etc" "$root/tmp" && chmod 1777 "$root/tmp"
  echo "nobody:x:65534:65534:nobody:/:/sbin/nologin" >"$root/etc/passwd"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$root.tar" .
  python3 "$LAB_DIR/lib/docker_archive.py" "$root.tar" "$archive.tmp" --tag "$tag" --entrypoint "/$name"
  mv "$archive.tmp" "$archive"
  rm -rf "$root" "$root.tar"
}

tools_packages() { grep -v '^#' "$REPO_DIR/images/tools/packages.txt" | grep -v '^$' | paste -sd, -; }

build_images() {
  local dir="$CACHE/images"
  mkdir -p "$dir"
  [[ -f $dir/pause.tar ]] || image_from_binary "$dir/pause.tar" "$PAUSE_IMAGE" "$CACHE/pause/pause" pause
  [[ -f $dir/coredns-$COREDNS_VERSION.tar ]] ||
    image_from_binary "$dir/coredns-$COREDNS_VERSION.tar" "$COREDNS_IMAGE" "$CACHE/coredns-$COREDNS_VERSION/coredns" coredns
  # The tools image is keyed by its package list, so editing the list rebuilds it.
  local key
  key=$(sha256sum "$REPO_DIR/images/tools/packages.txt" | cut -c1-12)
  TOOLS_ARCHIVE="$dir/tools-$key.tar"
  [[ -f $TOOLS_ARCHIVE ]] && return 0
  log "building the tools image from Debian packages (mmdebstrap)"
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing" "apt-get install mmdebstrap"
  local rootfs
  rootfs=$(mktemp --suffix=.tar)
  local sources=/etc/apt/sources.list.d/debian.sources
  [[ -f $sources ]] || sources=/etc/apt/sources.list
  SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=minbase --include="$(tools_packages)" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    bookworm "$rootfs" "$sources" || die "mmdebstrap failed" "check that the Debian mirror in $sources is reachable"
  local tags=(--tag "$TOOLS_IMAGE")
  local alias
  for alias in "${TOOLS_IMAGE_ALIASES[@]}"; do tags+=(--tag "$alias"); done
  python3 "$LAB_DIR/lib/docker_archive.py" "$rootfs" "$TOOLS_ARCHIVE.tmp" "${tags[@]}" --cmd sleep --cmd infinity
  mv "$TOOLS_ARCHIVE.tmp" "$TOOLS_ARCHIVE"
  rm -f "$rootfs"
}

build_all() {
  build_k8s
  build_coredns
  build_pause
  build_images
}
