#!/usr/bin/env bash
# Builds `sops`, `age` / `age-keygen` and `nats-server` from their Go modules (pinned in versions.env) into a per-user
# cache outside the clone and prints the directory holding them. Idempotent: when the binaries for
# these versions are present the build is skipped. Test infrastructure only: the product never runs them.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env
source ./go-build-cached.sh

build_cached build.sh "sops-${SOPS_VERSION}-age-${AGE_VERSION}-nats-${NATS_SERVER_VERSION}" "sops age age-keygen nats-server" \
  "github.com/getsops/sops/v3/cmd/sops@${SOPS_VERSION}" \
  "filippo.io/age/cmd/age@${AGE_VERSION}" \
  "filippo.io/age/cmd/age-keygen@${AGE_VERSION}" \
  "github.com/nats-io/nats-server/v2@${NATS_SERVER_VERSION}"
