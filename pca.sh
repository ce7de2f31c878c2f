#!/usr/bin/env bash
# The course's contract for part 1: `bash pca.sh --help` prints it (the text below).
set -u
usage="usage: bash pca.sh IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE"
help() {
  cat <<EOF
$usage

Rebuilds INPUT_IMAGE from the top 5 eigenfaces of the faces in IMAGES_DIR and writes
OUTPUT_IMAGE, at the input's size, in the format its extension names (.png, .jpg, ...).
Runs from any folder: paths are the caller's; INPUT_IMAGE may also be a bare file name inside
IMAGES_DIR, as the course gave it. It runs python -m pipeline.eigenfaces in this repository,
with its .venv (python3 from PATH without one). Bad input: one line "error: ..." on stderr and
exit status 2, nothing written.
EOF
}
fail() {  # one line, control characters shown as '?', like the Python entry points' errors
  local line="error: $1"
  printf '%s\n' "${line//[[:cntrl:]]/?}" >&2
  exit 2
}
for arg in "$@"; do
  case "$arg" in
    -h|--help) help; exit 0 ;;
    -?*) fail "command line: unknown option $arg; $usage" ;;
  esac
done
[ $# -eq 3 ] || fail "command line: expected 3 arguments, found $#; $usage"
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P) || exit 1
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
args=()
for arg in "$@"; do
  case "$arg" in
    /*) ;;  # absolute: as it is
    */*) arg="$PWD/$arg" ;;  # a path from the caller's folder
    *) [ ${#args[@]} -eq 1 ] || arg="$PWD/$arg" ;;  # a bare name: the input image's is inside <images dir>
  esac
  args+=("$arg")
done
cd -- "$root" && exec "$python" -m pipeline.eigenfaces "${args[@]}"
