#!/usr/bin/env bash
# Builds the test node's pod sandbox ("pause") image: the static `pause` binary that
# test/controlplane/build.sh --node builds, alone in a FROM-scratch image (no registry has one
# for us), saved as a docker-archive for `ctr images import`. Idempotent: keyed by the binary's
# hash. Prints two lines: the image name, then the archive's path.
set -euo pipefail
cd "$(dirname "$0")"
source ./podman.sh
node_dir=$(../controlplane/build.sh --node | tail -n 1)
pause="${node_dir}/pause"
key=$( { sha256sum < "$pause"; content_hash build-pause.sh; } | sha256sum | cut -c1-12)
name="localhost/gitops-reverser-pause:${key}"
archive="${cache_root}/image/pause-${key}.tar"
if [ -f "$archive" ]; then
  printf '%s\n%s\n' "$name" "$archive"
  exit 0
fi
mkdir -p "${cache_root}/image"
context=$(mktemp -d "${cache_root}/pause.XXXXXX")
trap 'rm -rf "$context"' EXIT
cp "$pause" "${context}/pause"
cat > "${context}/Containerfile" <<'CONTAINERFILE'
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
CONTAINERFILE
gr_podman build --network none --pull=never -t "$name" "$context" >&2
gr_podman save --format docker-archive -o "${archive}.tmp" "$name" >&2
mv "${archive}.tmp" "$archive"
printf '%s\n%s\n' "$name" "$archive"
