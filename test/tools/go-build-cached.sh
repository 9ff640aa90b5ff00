# Sourced by build.sh and build-helm.sh: one cached, idempotent `go install` of pinned modules.
#
#   build_cached SCRIPT SUBDIR "BINARY..." MODULE@VERSION...
#
# Prints ${cache_root}/tools/SUBDIR, where every BINARY then is. When they all are there already the
# build is skipped; otherwise the modules are built into a temporary folder and moved into place only
# when all are built, so a half-finished build is never taken for a cached one.
#
#   GITOPS_REVERSER_CACHE   overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gitops-reverser)

cache_root="${GITOPS_REVERSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-reverser}"

build_cached() {
  local script=$1 bin_dir="${cache_root}/tools/$2" binaries=$3
  shift 3
  local binary missing=0
  for binary in ${binaries}; do [ -x "${bin_dir}/${binary}" ] || missing=1; done
  if [ "${missing}" = 0 ]; then
    echo "${bin_dir}"
    return 0
  fi
  command -v go >/dev/null || { echo "${script}: Go is required (go 1.26 or newer) to build ${binaries}" >&2; return 1; }
  mkdir -p "${bin_dir}"
  build_tmp=$(mktemp -d "${bin_dir}.build.XXXXXX")
  trap 'rm -rf "${build_tmp}"' EXIT
  local started module
  started=$(date +%s)
  echo "${script}: building ${*} (first time on this machine: a few minutes)" >&2
  # `go install module@version` builds with the module's own go.mod and go.sum: pinned and verified.
  for module in "$@"; do CGO_ENABLED=0 GOBIN="${build_tmp}" go install -trimpath -ldflags "-s -w" "${module}" >&2; done
  for binary in ${binaries}; do mv "${build_tmp}/${binary}" "${bin_dir}/"; done
  echo "${script}: built in $(( $(date +%s) - started ))s into ${bin_dir}" >&2
  echo "${bin_dir}"
}
