#!/bin/bash
# Runs every libFuzzer harness for SECONDS each, starting from its committed seed corpus
# (tests/fuzz/corpus/<harness>, plus the unit tests' fixtures in tests/data: the weight readers'
# seeds live there), which is replayed in full first. New inputs go to a scratch
# corpus under WORK, never into the repository. Any crash, leak or sanitizer report fails.
# usage: [MVIT_FUZZERS="desc ..."] tests/fuzz/run.sh FUZZ_BUILD_DIR SECONDS [WORK_DIR]
#   FUZZ_BUILD_DIR: configured with CC=clang -DMVIT_FUZZ=ON and built (targets fuzz_*)
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
)
failures=0
for h in ${MVIT_FUZZERS:-desc safetensors pytorch pickle classify_inputs}; do
    exe=$build/tests/fuzz/fuzz_$h
    [ -x "$exe" ] || { echo "FAIL fuzz_$h: $exe not built"; failures=$((failures + 1)); continue; }
    rm -rf "$work/$h" && mkdir -p "$work/$h/corpus" "$work/$h/artifacts"
    seeds=()
    for d in "$here/corpus/$h" ${extra[$h]}; do [ -d "$d" ] && seeds+=("$d"); done
    if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$h/artifacts/" "$work/$h/corpus" "${seeds[@]}" \
        > "$work/$h/log.txt" 2>&1; then
        echo "ok   fuzz_$h: $(grep -E 'stat::number_of_executed_units' "$work/$h/log.txt" |
            awk '{print $2}') executions in ${seconds} s, corpus $(ls "$work/$h/corpus" | wc -l) new inputs"
    else
        echo "FAIL fuzz_$h (log: $work/$h/log.txt, inputs: $work/$h/artifacts/)"
        grep -E "ERROR|SUMMARY|runtime error" "$work/$h/log.txt" | head -5
        failures=$((failures + 1))
    fi
done
exit $((failures > 0))
