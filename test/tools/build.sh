#!/usr/bin/env bash
# Builds `sops`, `age` / `age-keygen` and `nats-server` from their Go modules (pinned in versions.env) into a per-user
# cache outside the clone and prints the directory holding them. Idempotent: when the binaries for
# these versions are present the build is skipped. Test infrastructure only: the product never runs them.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env

command -v go >/dev/null || { echo "build.sh: Go is required (go 1.26 or newer) to build sops and age" >&2; exit 1; }

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"
bin_dir="${cache_root}/tools/sops-${SOPS_VERSION}-age-${AGE_VERSION}-nats-${NATS_SERVER_VERSION}"

if [ -x "${bin_dir}/sops" ] && [ -x "${bin_dir}/age" ] && [ -x "${bin_dir}/age-keygen" ] && [ -x "${bin_dir}/nats-server" ]; then
  echo "${bin_dir}"
  exit 0
fi

mkdir -p "${bin_dir}"
tmp_dir=$(mktemp -d "${bin_dir}.build.XXXXXX")
trap 'rm -rf "${tmp_dir}"' EXIT
started=$(date +%s)
echo "build.sh: building sops ${SOPS_VERSION}, age ${AGE_VERSION} and nats-server ${NATS_SERVER_VERSION} (first time on this machine: a few minutes)" >&2
export CGO_ENABLED=0
# `go install module@version` builds with the module's own go.mod and go.sum: pinned and verified.
GOBIN="${tmp_dir}" go install -trimpath -ldflags "-s -w" "github.com/getsops/sops/v3/cmd/sops@${SOPS_VERSION}" >&2
GOBIN="${tmp_dir}" go install -trimpath -ldflags "-s -w" "filippo.io/age/cmd/age@${AGE_VERSION}" "filippo.io/age/cmd/age-keygen@${AGE_VERSION}" >&2
GOBIN="${tmp_dir}" go install -trimpath -ldflags "-s -w" "github.com/nats-io/nats-server/v2@${NATS_SERVER_VERSION}" >&2
# Move into place only when all built, so a half-finished build is never taken for a cached one.
mv "${tmp_dir}/sops" "${tmp_dir}/age" "${tmp_dir}/age-keygen" "${tmp_dir}/nats-server" "${bin_dir}/"
echo "build.sh: built in $(( $(date +%s) - started ))s into ${bin_dir}" >&2
echo "${bin_dir}"
