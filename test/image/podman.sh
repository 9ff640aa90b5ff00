# Sourced by the image build scripts and used by the image tests: podman with its own storage in
# the per-user cache (never the machine's /var/lib/containers, shared by nobody else) and the
# settings of containers.conf beside this file.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"
image_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CONTAINERS_CONF="${image_dir}/containers.conf"
podman_root="${cache_root}/podman"

command -v podman >/dev/null || {
  echo "podman is required to build the images (Debian: apt-get install podman buildah runc mmdebstrap; .ci/run installs them)" >&2
  exit 1
}

# TMPDIR: buildah keeps RUN --mount=type=cache folders (the npm cache of the Dockerfile) there.
gr_podman() {
  mkdir -p "${podman_root}/tmp"
  TMPDIR="${podman_root}/tmp" podman --root "${podman_root}/storage" --runroot "${podman_root}/run" --tmpdir "${podman_root}/tmp" --storage-driver overlay "$@"
}

# content_hash FILE...: one short hash of the files' names and contents.
content_hash() {
  local file
  for file in "$@"; do printf '%s\0' "$file"; cat "$file"; done | sha256sum | cut -c1-12
}
