#!/usr/bin/env bash
# Makes the Node base image offline, without Docker Hub: Debian trixie (minbase) from Debian's own
# package mirror with mmdebstrap, plus the Node.js this machine runs (node, npm) in /usr/local, the
# layout of the official node:20-slim image, so deploy/docker/Dockerfile builds on it unchanged
# (--build-arg NODE_IMAGE=<printed name>). Idempotent: the image name carries a hash of this
# script, the Node binary and npm's version; when it is in the cache's podman storage, nothing runs.
# Prints the image name. See docs/adr/0033-image-base-built-offline.md.
#
#   DEBIAN_MIRROR           default http://deb.debian.org/debian
set -euo pipefail
cd "$(dirname "$0")"
source ./podman.sh

command -v mmdebstrap >/dev/null || { echo "build-base.sh: mmdebstrap is required (Debian: apt-get install mmdebstrap)" >&2; exit 1; }
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "${npm_dir}/package.json" ] || { echo "build-base.sh: cannot find npm's folder (looked at ${npm_dir})" >&2; exit 1; }
node_version=$(node --version)
npm_version=$(node -p "require('${npm_dir}/package.json').version")
case "$node_version" in v20.*) ;; *) echo "build-base.sh: the machine's Node is ${node_version}; the image needs Node 20 (>= 20.19)" >&2; exit 1 ;; esac

key=$( { content_hash build-base.sh podman.sh containers.conf; sha256sum "$node_bin"; echo "npm ${npm_version}"; } | sha256sum | cut -c1-12)
name="localhost/gitops-reverser-base:node${node_version#v}-trixie-${key}"
if gr_podman image exists "$name"; then
  echo "$name"
  exit 0
fi

started=$(date +%s)
echo "build-base.sh: making ${name} (Debian trixie minbase + Node ${node_version}, npm ${npm_version})" >&2
work=$(mktemp -d "${cache_root}/base.XXXXXX")
trap 'rm -rf "$work"' EXIT
# minbase keeps apt (the Dockerfile's WITH_NODEGIT stages install packages); libstdc++6 is what
# Node links besides libc. Docs, man pages, locales and apt's lists are left out, as in -slim images.
mmdebstrap --variant=minbase --include=ca-certificates,libstdc++6 \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules/npm"' \
  --customize-hook="copy-in ${node_bin} /usr/local/bin" \
  --customize-hook="sync-in ${npm_dir} /usr/local/lib/node_modules/npm" \
  --customize-hook='ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" node --version' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  trixie "${work}/rootfs.tar" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
gr_podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'CMD ["node"]' \
  "${work}/rootfs.tar" "$name" >&2
echo "build-base.sh: made in $(( $(date +%s) - started ))s" >&2
# Older bases only fill the disk (images built on them keep their layers while they exist).
for old in $(gr_podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/gitops-reverser-base:' | grep -vxF "$name"); do
  gr_podman rmi "$old" >/dev/null 2>&1 || true
done
echo "$name"
