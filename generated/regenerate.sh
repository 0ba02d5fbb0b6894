#!/bin/bash
# Writes generated/<target>[-int8]/fmnist_xxs.{c,h}: the shipped Fashion-MNIST model for every
# target in mvitc's registry (`mvitc targets`), fp32 and int8 (calibrated on the first 2,000
# training images of Debian's dataset-fashion-mnist). Run from the repository root, with
# relative paths, so that the banner's command line is the same on every machine; CI runs it
# (cmake --build build --target regenerate) and diffs the result against the committed files.
# usage: generated/regenerate.sh MVITC
set -euo pipefail
mvitc=$1
calib=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
targets=$("$mvitc" targets --tsv | cut -f1)
[ -n "$targets" ] || { echo "regenerate.sh: $mvitc lists no targets" >&2; exit 1; }
# all files at once: each compile is one process, and the int8 ones spend about a minute
# calibrating; a job's messages are printed when it ends, so they do not interleave
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
one() { # TARGET PRECISION
    local extra=() dir=generated/$1
    [ "$2" = int8 ] && extra=(--calib "$calib" --calib-images 2000) dir=generated/$1-int8
    if "$mvitc" compile models/fmnist_xxs.yaml --weights models/fmnist_xxs.safetensors \
        --target "$1" --precision "$2" "${extra[@]}" --name fmnist_xxs -o "$dir" \
        > "$log/$1-$2" 2>&1; then
        echo "$dir: $(tail -1 "$log/$1-$2")"
    else
        cat "$log/$1-$2" >&2; echo "regenerate.sh: $dir failed" >&2; return 1
    fi
}
pids=()
for t in $targets; do
    for p in fp32 int8; do one "$t" "$p" & pids+=($!); done
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
