#!/usr/bin/env bash
# The course's contract for part 1:  bash pca.sh <images dir> <input image> <output image>
# Rebuilds <input image> from the top 5 eigenfaces of <images dir> and writes <output image>
# (python -m pipeline.eigenfaces). Runs from any folder: paths are the caller's; the input image
# may also be a bare file name inside <images dir>, as the course gave it. Bad input: one line
# `error: …` on stderr and exit status 2, from the module itself.
set -u
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
