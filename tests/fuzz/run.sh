#!/bin/bash
# Runs every libFuzzer harness for SECONDS each, starting from its committed seed corpus
# (tests/fuzz/corpus/<harness>, plus the unit tests' fixtures in tests/data: the weight readers'
# seeds live there), which is replayed in full first. New inputs go to a scratch
# corpus under WORK, never into the repository. Any crash, leak or sanitizer report fails.
# usage: [MVIT_FUZZERS="desc ..."] [MVIT_FUZZ_JOBS=N] tests/fuzz/run.sh FUZZ_BUILD_DIR SECONDS
#        [WORK_DIR]
#   FUZZ_BUILD_DIR: configured with CC=clang -DMVIT_FUZZ=ON and built (targets fuzz_*)
#   MVIT_FUZZ_JOBS: harnesses run at the same time (default 1; each is one process on one
#   core for SECONDS, so CI runs as many as it has cores)
set -uo pipefail
build=$1 seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=${3:-$build/fuzz-work}
declare -A extra=(
    [desc]="$here/../data/desc"
    [safetensors]="$here/../data/weights"
    [pytorch]="$here/../data/weights"
    [pickle]=""
    [classify_inputs]=""
    [ranges]=""
)
jobs=${MVIT_FUZZ_JOBS:-1}
run_one() { # HARNESS: replays its seeds, fuzzes; prints one line, and fails on any finding
    local h=$1 exe=$build/tests/fuzz/fuzz_$1 seeds=() d
    [ -x "$exe" ] || { echo "FAIL fuzz_$h: $exe not built"; return 1; }
    rm -rf "$work/$h" && mkdir -p "$work/$h/corpus" "$work/$h/artifacts"
    for d in "$here/corpus/$h" ${extra[$h]}; do [ -d "$d" ] && seeds+=("$d"); done
    if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$h/artifacts/" "$work/$h/corpus" "${seeds[@]}" \
        > "$work/$h/log.txt" 2>&1; then
        echo "ok   fuzz_$h: $(grep -E 'stat::number_of_executed_units' "$work/$h/log.txt" |
            awk '{print $2}') executions in ${seconds} s, corpus $(ls "$work/$h/corpus" | wc -l) new inputs"
    else
        echo "FAIL fuzz_$h (log: $work/$h/log.txt, inputs: $work/$h/artifacts/)"
        grep -E "ERROR|SUMMARY|runtime error" "$work/$h/log.txt" | head -5
        return 1
    fi
}
failures=0 running=0
for h in ${MVIT_FUZZERS:-desc safetensors pytorch pickle classify_inputs ranges}; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failures=$((failures + 1))
        running=$((running - 1))
    fi
    run_one "$h" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || failures=$((failures + 1))
    running=$((running - 1))
done
exit $((failures > 0))
