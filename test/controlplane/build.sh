#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from their Go modules into a per-user cache outside the clone and
# prints the directory holding them. Idempotent: when the binaries for this exact go.mod/go.sum are
# present the build is skipped, so a machine that built once starts a fresh clone in seconds.
#
#   ./build.sh          control plane: kube-apiserver, kubectl, etcd
#   ./build.sh --node   the opt-in test node as well (prints its folder on a second line): kubelet,
#                       kube-controller-manager, kube-scheduler, kube-proxy and the pod sandbox's
#                       `pause`, from the same Kubernetes module (go.mod) as the API server.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
#   GOFLAGS=-p=1            builds one package at a time (a shared 2-core machine)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env

with_node=false
case "${1:-}" in
  --node) with_node=true ;;
  "") ;;
  *) echo "build.sh: unknown argument '$1' (only --node)" >&2; exit 2 ;;
esac

command -v go >/dev/null || { echo "build.sh: Go is required (go 1.26 or newer) to build the test control plane" >&2; exit 1; }

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"
kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${KUBERNETES_VERSION}" | cut -d. -f2)"
export CGO_ENABLED=0

# build_set <folder> <binary>...: builds ./cmd/<binary> for each into <folder> unless all are there.
# Binaries move into place only when all built, so a half-finished build is never taken for a cached one.
build_set() {
  local dir=$1; shift
  local missing=false
  for binary in "$@"; do [ -x "${dir}/${binary}" ] || missing=true; done
  [ "$missing" = false ] && return 0
  mkdir -p "${dir}"
  local tmp_dir
  tmp_dir=$(mktemp -d "${dir}.build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the folder of this call
  trap "rm -rf '${tmp_dir}'" EXIT
  local started
  started=$(date +%s)
  echo "build.sh: building $* (Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}; first time on this machine: several minutes)" >&2
  for binary in "$@"; do
    case "$binary" in
      etcd|pause) go build -trimpath -ldflags "-s -w" -o "${tmp_dir}/${binary}" "./cmd/${binary}" >&2 ;;
      *) go build -trimpath -ldflags "${kube_ldflags}" -o "${tmp_dir}/${binary}" "./cmd/${binary}" >&2 ;;
    esac
  done
  for binary in "$@"; do mv "${tmp_dir}/${binary}" "${dir}/"; done
  rm -rf "${tmp_dir}"
  trap - EXIT
  echo "build.sh: built in $(( $(date +%s) - started ))s into ${dir}" >&2
}

# Each key names the versions a person reads, plus a hash of the exact module graph and sources.
plane_hash=$(cat go.mod go.sum cmd/etcd/main.go cmd/kube-apiserver/main.go cmd/kubectl/main.go build.sh | sha256sum | cut -c1-12)
bin_dir="${cache_root}/controlplane/kube-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-${plane_hash}"
build_set "${bin_dir}" etcd kube-apiserver kubectl
echo "${bin_dir}"

if [ "$with_node" = true ]; then
  node_hash=$(cat go.mod go.sum cmd/kubelet/main.go cmd/kube-controller-manager/main.go cmd/kube-scheduler/main.go cmd/kube-proxy/main.go cmd/pause/main.go build.sh | sha256sum | cut -c1-12)
  node_dir="${cache_root}/controlplane/node-kube-${KUBERNETES_VERSION}-${node_hash}"
  build_set "${node_dir}" pause kube-scheduler kube-proxy kube-controller-manager kubelet
  echo "${node_dir}"
fi
