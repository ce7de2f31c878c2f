#!/usr/bin/env bash
# The course's contract for part 2:  bash cluster.sh <images dir> <test_case.csv> <prediction.csv>
# Labels the pairs of <test_case.csv> with the run trained in this repository (dvc repro, dvc exp
# apply or dvc pull first; nothing is trained here) and writes <prediction.csv> (`id,label`):
# python -m pipeline.label with the same three arguments. Runs from any folder: paths are the
# caller's. Bad input: one line `error: …` on stderr and exit status 2, before any work.
set -u
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P) || exit 1
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
fail() {  # one line, control characters shown as '?', like the Python entry points' errors
  local line="error: $1"
  printf '%s\n' "${line//[[:cntrl:]]/?}" >&2
  exit 2
}
[ $# -eq 3 ] || fail "command line: expected 3 arguments, found $#; usage: bash cluster.sh IMAGES_DIR TEST_CASE_CSV PREDICTION_CSV"
args=()
for arg in "$@"; do
  case "$arg" in /*) ;; *) arg="$PWD/$arg" ;; esac  # relative: the caller's
  args+=("$arg")
done
# pipeline.label writes the CSV after labelling (atomically, creating missing folders): check
# before that minute that the nearest existing folder above it takes a new file.
folder=$(dirname -- "${args[2]}")
while [ ! -e "$folder" ] && [ ! -L "$folder" ]; do folder=$(dirname -- "$folder"); done
[ -d "$folder" ] || fail "$3: expected a folder to write it in, found the file $folder"
[ -w "$folder" ] && [ -x "$folder" ] || fail "$3: expected a folder you may write in, found $folder read-only"
cd -- "$root" && exec "$python" -m pipeline.label "${args[@]}"
