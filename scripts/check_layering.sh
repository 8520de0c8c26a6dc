#!/usr/bin/env bash
# check_layering.sh GRAPH ROOT: fails on an #include of a module's header
# from code whose target does not link that module (docs/architecture.md,
# "Layers"). GRAPH is build/<preset>/layering.txt, written by CMake from the
# target_link_libraries of every target (cmake/layering.cmake); ROOT is the
# source tree. ctest runs it as `layering`.
#
# check_layering.sh --self-test GRAPH ROOT: copies ROOT's sources, adds two
# wrong includes (record -> server; the socket-free acpstore_http -> the
# Asio acpstore_server, same folder) and passes only if exactly those two
# are reported. ctest runs it as `layering_catches_a_wrong_include`.
#
# Every .cc and .h under src/ must belong to a target (so: configure with
# every module, as the release preset does).
#
# An include is resolved like the compiler does for quotes: beside the
# including file, then under src/. Public headers (acpstore/...) are open to
# all; system and third-party headers are not ours to check.
set -euo pipefail

# check GRAPH ROOT: prints each violation, returns 1 if there was one.
check() {
  local graph="$1" root="$2"
  declare -A owners allow
  local kind name rest
  while read -r kind name rest; do
    case "$kind" in
      owner) owners["$name"]="$rest" ;;
      allow) allow["$name"]=" $rest " ;;
    esac
  done <"$graph"

  local files=()
  for name in "${!owners[@]}"; do
    [ -f "$root/$name" ] && files+=("$name")
  done
  if [ "${#files[@]}" -eq 0 ]; then
    echo "check_layering: no sources of $graph found under $root" >&2
    return 1
  fi

  # A module file no target builds would go unchecked: say so and fail.
  local violations=0 checked=0 line file lineno inc dir h t o ok
  while IFS= read -r file; do
    if [ -z "${owners[$file]+x}" ]; then
      echo "$file: in no target of this configuration, so its includes cannot be checked" >&2
      violations=$((violations + 1))
    fi
  done < <(cd "$root" && find src -name '*.cc' -o -name '*.h' | sort)
  while IFS= read -r line; do
    file="${line%%:*}"; line="${line#*:}"
    lineno="${line%%:*}"; line="${line#*:}"
    inc="${line#*\"}"; inc="${inc%%\"*}"
    case "$inc" in acpstore/*) continue ;; esac
    dir="$(dirname "$file")"
    h=""
    for cand in "$dir/$inc" "src/$inc"; do
      # Fold "a/../" (tests that reach into a sibling folder).
      while [[ "$cand" =~ ^(.*/)?[^/.][^/]*/\.\./(.*)$ ]]; do
        cand="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"
      done
      if [ -n "${owners[$cand]+x}" ]; then h="$cand"; break; fi
    done
    [ -n "$h" ] || continue
    checked=$((checked + 1))
    ok=0
    for t in ${owners[$file]}; do
      for o in ${owners[$h]}; do
        if [[ "${allow[$t]:-}" == *" $o "* ]]; then ok=1; break 2; fi
      done
    done
    if [ "$ok" = 0 ]; then
      echo "$file:$lineno: includes \"$inc\" ($h, in ${owners[$h]// /, })," \
           "but ${owners[$file]// /, } links none of them" >&2
      violations=$((violations + 1))
    fi
  done < <(cd "$root" && grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -- "${files[@]}")

  echo "check_layering: ${#files[@]} files, $checked includes of this project's headers checked, $violations problems"
  [ "$violations" = 0 ]
}

self_test() {
  local graph="$1" root="$2" tmp out rc
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  # Only the files the graph names.
  awk '$1 == "owner" { print $2 }' "$graph" |
    (cd "$root" && while read -r f; do [ -f "$f" ] && echo "$f"; done) |
    (cd "$root" && tar -cf - -T -) | tar -xf - -C "$tmp"
  echo '#include "server/router.h"' >>"$tmp/src/record/validate.cc"
  echo '#include "server/server.h"' >>"$tmp/src/server/router.cc"
  rc=0
  out="$(check "$graph" "$tmp" 2>&1)" || rc=$?
  echo "$out"
  if [ "$rc" = 0 ]; then
    echo "self-test: the checker accepted two wrong includes" >&2
    return 1
  fi
  if ! grep -q '^src/record/validate.cc:.*"server/router.h"' <<<"$out" ||
     ! grep -q '^src/server/router.cc:.*"server/server.h"' <<<"$out" ||
     [ "$(grep -c 'links none of them' <<<"$out")" != 2 ]; then
    echo "self-test: expected exactly the two planted violations" >&2
    return 1
  fi
  echo "self-test: both planted violations reported"
}

if [ "${1:-}" = "--self-test" ]; then
  shift
  [ "$#" = 2 ] || { echo "usage: $0 [--self-test] GRAPH ROOT" >&2; exit 2; }
  self_test "$1" "$2"
else
  [ "$#" = 2 ] || { echo "usage: $0 [--self-test] GRAPH ROOT" >&2; exit 2; }
  check "$1" "$2"
fi
