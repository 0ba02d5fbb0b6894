#!/bin/bash
# Writes generated/<target>[-int8]/<model>.{c,h}: the shipped Fashion-MNIST models (fmnist_xxs,
# MobileViT v1; fmnist_v2_050, MobileViT v2) for every target in mvitc's registry (`mvitc
# targets`), fp32 and int8 (calibrated on the first 2,000 training images of Debian's
# dataset-fashion-mnist). Run from the repository root, with
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
one() { # MODEL TARGET PRECISION
    local extra=() dir=generated/$2 out=$log/$1-$2-$3
    [ "$3" = int8 ] && extra=(--calib "$calib" --calib-images 2000) dir=generated/$2-int8
    if "$mvitc" compile "models/$1.yaml" --weights "models/$1.safetensors" \
        --target "$2" --precision "$3" "${extra[@]}" --name "$1" -o "$dir" > "$out" 2>&1; then
        echo "$dir/$1: $(tail -1 "$out")"
    else
        cat "$out" >&2; echo "regenerate.sh: $dir/$1 failed" >&2; return 1
    fi
}
pids=()
for m in fmnist_xxs fmnist_v2_050; do
    for t in $targets; do
        for p in fp32 int8; do one "$m" "$t" "$p" & pids+=($!); done
    done
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
