#!/usr/bin/env bash
# The course's contract for part 2: `bash cluster.sh --help` prints it (the text below).
set -u
usage="usage: bash cluster.sh IMAGES_DIR TEST_CASE_CSV PREDICTION_CSV"
help() {
  cat <<EOF
$usage

Labels the pairs of TEST_CASE_CSV (id,image1_name,image2_name, naming the numbered images of
IMAGES_DIR) with the run trained in this repository and writes PREDICTION_CSV (id,label: 1 when
the run puts both images in the same cluster). Nothing is trained here: dvc repro, dvc exp apply
or dvc pull first. Runs from any folder: paths are the caller's. It runs python -m
pipeline.label with the same three paths in this repository, with its .venv (python3 from PATH
without one). Bad input: one line "error: ..." on stderr and exit status 2, before any work.
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
