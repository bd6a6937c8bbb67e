#!/usr/bin/env bash
# Builds certauth's libFuzzer targets with clang (ASan + UBSan) in
# build-fuzz, replays every input of fuzz/regressions/ (crashes found before),
# then fuzzes each target for SECONDS from a temporary copy of its seed corpus
# (fuzz/corpus/TARGET; the repository is not written). Exits non-zero when a
# replay or a run crashes, leaks, times out or runs out of memory, and says
# where the input that did it is.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60, all)
#   targets: certificate users config http_request upstream_response directory_rows header_certificate
#            connection_string
#   CERTAUTH_FUZZ_MERGE=1  afterwards, add the inputs that found new coverage to
#                          fuzz/corpus/TARGET (libFuzzer -merge=1; commit them)
#   CERTAUTH_JOBS=N        build parallelism (default 2)
# Bootstraps nothing: scripts/bootstrap.sh installs the release's clang and its
# libclang-rt (scripts/lib/release.sh names them: clang 14 on Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib/release.sh

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
shift || true
all_targets=(certificate users config http_request upstream_response directory_rows header_certificate
  connection_string)
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  if [ ! -f "fuzz/$t.cpp" ]; then
    echo "fuzz.sh: unknown target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
jobs=${CERTAUTH_JOBS:-2}
build=$root/build-fuzz

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

step "build the fuzz targets (clang $llvm_version, libFuzzer + ASan + UBSan) in build-fuzz"
CC=$(llvm_tool clang) CXX=$(llvm_tool clang++) cmake -S . -B "$build" -DCERTAUTH_FUZZ=ON -DCERTAUTH_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers
built=$(date +%s)

# Leaks and UB are failures; a crash report names the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "replay fuzz/regressions"
(cd "$build/fuzz" && ctest --output-on-failure -j "$jobs" -R '^fuzz\.regressions\.')

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-fuzz.XXXXXX")
failed=()
summary=()
for t in "${targets[@]}"; do
  step "fuzz $t for ${seconds}s"
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp -R "fuzz/corpus/$t/." "$work/$t/corpus/"
  dict=()
  if [ -f "fuzz/dictionaries/$t.dict" ]; then dict=(-dict="$root/fuzz/dictionaries/$t.dict"); fi
  rc=0
  "$build/fuzz/fuzz_$t" "$work/$t/corpus" "${dict[@]}" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" >"$work/$t/log" 2>&1 || rc=$?
  # "#123 DONE cov: 1585 ft: 4700 corp: 450/342Kb ..." and the final stats.
  done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$work/$t/log" | tail -n 1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t/log")
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/.*/cov \1, features \2, corpus \3/p' <<<"$done_line")
  summary+=("$(printf '%-13s %10s runs %7s/s  %s' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}")")
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    echo "fuzz.sh: $t FAILED (exit $rc); the end of its log:"
    grep -v -E '^#[0-9]+[[:space:]]' "$work/$t/log" | tail -n 60
    for artifact in "$work/$t/artifacts"/*; do
      [ -e "$artifact" ] || continue
      echo "fuzz.sh: crashing input: $artifact"
      echo "  reproduce: $build/fuzz/fuzz_$t $artifact"
      echo "  then add it to fuzz/regressions/$t/ and a regression test (fuzz/README.md)"
    done
    echo "fuzz.sh: full log: $work/$t/log"
  else
    echo "$done_line"
    if [ "${CERTAUTH_FUZZ_MERGE:-0}" = 1 ]; then
      "$build/fuzz/fuzz_$t" -merge=1 "${dict[@]}" "fuzz/corpus/$t" "$work/$t/corpus" >"$work/$t/merge.log" 2>&1
      grep -E 'MERGE-OUTER: [0-9]+ new files' "$work/$t/merge.log" || true
    fi
  fi
done

end=$(date +%s)
step "fuzzing summary (build $((built - start))s, total $((end - start))s)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs and logs kept in $work)"
  exit 1
fi
rm -rf "$work"
echo "fuzz.sh: no crash in ${#targets[@]} targets"
