#!/usr/bin/env bash
# Builds `helm` from its Go module (version pinned in versions.env) into a per-user cache outside the
# clone and prints the directory holding it. Idempotent: skipped when that version is present.
# Test infrastructure only: the chart's tests render it with `helm template`.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env

command -v go >/dev/null || { echo "build-helm.sh: Go is required (go 1.26 or newer) to build helm" >&2; exit 1; }

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"
bin_dir="${cache_root}/tools/helm-${HELM_VERSION}"

if [ -x "${bin_dir}/helm" ]; then
  echo "${bin_dir}"
  exit 0
fi

mkdir -p "${bin_dir}"
tmp_dir=$(mktemp -d "${bin_dir}.build.XXXXXX")
trap 'rm -rf "${tmp_dir}"' EXIT
started=$(date +%s)
echo "build-helm.sh: building helm ${HELM_VERSION} (first time on this machine: a few minutes)" >&2
CGO_ENABLED=0 GOBIN="${tmp_dir}" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
mv "${tmp_dir}/helm" "${bin_dir}/"
echo "build-helm.sh: built in $(( $(date +%s) - started ))s into ${bin_dir}" >&2
echo "${bin_dir}"
