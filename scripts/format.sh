#!/usr/bin/env bash
# The C++ layout (.clang-format: Google style, 100 columns) over every tracked .cc and .h.
#
#   scripts/format.sh           rewrites the files in place
#   scripts/format.sh --check   changes nothing; lists each file that differs and exits 1
#                               (what .ci/run does, before it builds)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null ||
  { echo "format.sh: clang-format is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
                         \( -name '*.cc' -o -name '*.h' \) -print | sort)
fi
if [ "${1:-}" = "--check" ]; then
  # One clang-format for all files; it names each difference "<file>:<line>:<col>: error".
  mapfile -t bad < <(clang-format --dry-run -Werror "${files[@]}" 2>&1 |
                       sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
  if [ ${#bad[@]} -gt 0 ]; then
    echo "format.sh: ${#bad[@]} of ${#files[@]} files are not clang-format clean (scripts/format.sh fixes them):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format.sh: ${#files[@]} files clang-format clean"
else
  clang-format -i "${files[@]}"
fi
