#!/usr/bin/env bash
# Builds the gitops-reverser image from deploy/docker/Dockerfile (the recipe users build with) on the
# base build-base.sh makes offline, and saves it as a docker-archive that `podman load` and
# `ctr images import` read. Idempotent: the image tag is a hash of the base, the Dockerfile,
# .dockerignore, this script and every file of the build context (git's view: tracked and
# untracked, minus ignored and minus the tests .dockerignore leaves out); when its archive is in
# the cache, nothing runs. Keeps the two newest builds.
# Prints two lines: the image name, then the archive's path.
set -euo pipefail
cd "$(dirname "$0")"
source ./podman.sh
base=$(./build-base.sh)
repo_root=$(cd ../.. && pwd)

cd "$repo_root"
version=$(node -p "require('./packages/kernel/package.json').version")
mapfile -d '' context < <(git ls-files -z --cached --others --exclude-standard -- package.json package-lock.json .npmrc tsconfig.base.json lerna.json packages examples | sort -z)
[ "${#context[@]}" -gt 0 ] || { echo "build-image.sh: no build context found under ${repo_root} (needs a git checkout)" >&2; exit 1; }
# The files the build sees: .dockerignore leaves out packages/*/test and examples/*/test.
existing=()
for file in "${context[@]}"; do
  case "$file" in packages/*/test/*|examples/*/test/*) continue ;; esac
  [ -f "$file" ] && existing+=("$file")
done
key=$( { echo "$base"; content_hash deploy/docker/Dockerfile .dockerignore test/image/build-image.sh; content_hash "${existing[@]}"; } | sha256sum | cut -c1-12)
name="localhost/gitops-reverser:${version}-${key}"
archive_dir="${cache_root}/image"
archive="${archive_dir}/gitops-reverser-${version}-${key}.tar"
if [ -f "$archive" ] && gr_podman image exists "$name"; then
  printf '%s\n%s\n' "$name" "$archive"
  exit 0
fi

mkdir -p "$archive_dir"
started=$(date +%s)
echo "build-image.sh: building ${name} on ${base}" >&2
# Host network: the build's `npm ci` reaches the npm registry the way the host does, and podman
# sets up no bridge or firewall rules. --pull=never: the base is local, nothing comes from a registry.
# The host's CA bundle is mounted for the RUN steps only (never into the image), with an npmrc that
# points npm at it: where the registry is reached through a TLS-inspecting proxy, as on these
# machines, npm inside the build trusts what npm on the host trusts.
mounts=()
host_ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$host_ca" ]; then
  mkdir -p "${podman_root}/tmp"
  printf 'cafile=/run/host-ca/ca-certificates.crt\n' > "${podman_root}/tmp/npmrc"
  mounts+=(-v "${host_ca}:/run/host-ca/ca-certificates.crt:ro" -v "${podman_root}/tmp/npmrc:/usr/local/etc/npmrc:ro")
fi
gr_podman build --network host --pull=never "${mounts[@]}" --build-arg "NODE_IMAGE=${base}" \
  -f deploy/docker/Dockerfile -t "$name" . >&2
gr_podman save --format docker-archive -o "${archive}.tmp" "$name" >&2
mv "${archive}.tmp" "$archive"
echo "build-image.sh: built in $(( $(date +%s) - started ))s ($(du -m "$archive" | cut -f1) MB archive)" >&2

# Keep the two newest builds (archives and images); older ones only fill the disk.
for old in $(ls -1t "${archive_dir}"/gitops-reverser-*.tar 2>/dev/null | tail -n +3); do
  tag=$(basename "$old" .tar); tag=${tag#gitops-reverser-}
  rm -f "$old"
  gr_podman rmi -f "localhost/gitops-reverser:${tag}" >/dev/null 2>&1 || true
done
gr_podman image prune -f >/dev/null 2>&1 || true
printf '%s\n%s\n' "$name" "$archive"
