#!/usr/bin/env bash
# Builds `helm` from its Go module (version pinned in versions.env) into a per-user cache outside the
# clone and prints the directory holding it. Idempotent: skipped when that version is present.
# Test infrastructure only: the chart's tests render it with `helm template`.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env
source ./go-build-cached.sh

build_cached build-helm.sh "helm-${HELM_VERSION}" helm "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
