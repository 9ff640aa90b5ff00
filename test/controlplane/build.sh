#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from their Go modules into a per-user cache outside the clone and
# prints the directory holding them. Idempotent: when both binaries for this exact go.mod/go.sum are
# present the build is skipped, so a machine that built once starts a fresh clone in seconds.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env

command -v go >/dev/null || { echo "build.sh: Go is required (go 1.26 or newer) to build the test control plane" >&2; exit 1; }

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"
# The key names the versions a person reads, plus a hash of the exact module graph and sources.
source_hash=$(cat go.mod go.sum cmd/*/main.go build.sh | sha256sum | cut -c1-12)
bin_dir="${cache_root}/controlplane/kube-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-${source_hash}"

if [ -x "${bin_dir}/kube-apiserver" ] && [ -x "${bin_dir}/etcd" ] && [ -x "${bin_dir}/kubectl" ]; then
  echo "${bin_dir}"
  exit 0
fi

mkdir -p "${bin_dir}"
tmp_dir=$(mktemp -d "${bin_dir}.build.XXXXXX")
trap 'rm -rf "${tmp_dir}"' EXIT

started=$(date +%s)
echo "build.sh: building kube-apiserver and kubectl ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} (first time on this machine: several minutes)" >&2
export CGO_ENABLED=0
go build -trimpath -o "${tmp_dir}/etcd" ./cmd/etcd >&2
go build -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${KUBERNETES_VERSION}" | cut -d. -f2)" \
  -o "${tmp_dir}/kube-apiserver" ./cmd/kube-apiserver >&2
go build -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${KUBERNETES_VERSION}" | cut -d. -f2)" \
  -o "${tmp_dir}/kubectl" ./cmd/kubectl >&2
# Move into place only when all built, so a half-finished build is never taken for a cached one.
mv "${tmp_dir}/etcd" "${tmp_dir}/kube-apiserver" "${tmp_dir}/kubectl" "${bin_dir}/"
echo "build.sh: built in $(( $(date +%s) - started ))s into ${bin_dir}" >&2
echo "${bin_dir}"
