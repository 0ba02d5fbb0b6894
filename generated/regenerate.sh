#!/bin/bash
# Writes generated/<target>[-int8]/<model>.{c,h}: the shipped Fashion-MNIST models (fmnist_xxs,
# MobileViT v1; fmnist_v2_050, MobileViT v2) for every target in mvitc's registry (`mvitc
# targets`), fp32 and int8. The int8 files of a model share one calibration (`mvitc
# calibrate` on the first 2,000 training images of Debian's dataset-fashion-mnist), kept in
# generated/calib/<model>.ranges: what the int8 builds and tests read. Run from the repository
# root, with relative paths, so that the banners' command lines are the same on every machine;
# CI runs it (cmake --build build --target regenerate) and diffs the result against the
# committed files.
# usage: generated/regenerate.sh MVITC
set -euo pipefail
mvitc=$1
calib=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
targets=$("$mvitc" targets --tsv | cut -f1)
[ -n "$targets" ] || { echo "regenerate.sh: $mvitc lists no targets" >&2; exit 1; }
# all jobs at once (each one process): every fp32 build starts at once, a model's
# int8 builds when its calibration (one to two minutes) is written; a job's messages are printed
# when it ends, so they do not interleave
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
run() { # WHAT ARGS...: mvitc ARGS, its messages kept in $log until it ends
    local what=$1 out=$log/${1//\//_}
    shift
    if "$mvitc" "$@" > "$out" 2>&1; then
        local last; last=$(tail -1 "$out")
        echo "$what${last:+: $last}"
    else
        cat "$out" >&2; echo "regenerate.sh: $what failed" >&2; return 1
    fi
}
compile() { # MODEL TARGET PRECISION
    local extra=() dir=generated/$2
    [ "$3" = int8 ] && extra=(--ranges "generated/calib/$1.ranges") dir=generated/$2-int8
    run "$dir/$1" compile "models/$1.yaml" --weights "models/$1.safetensors" \
        --target "$2" --precision "$3" "${extra[@]}" --name "$1" -o "$dir"
}
int8_builds() { # MODEL: calibrate, then every target's int8 build
    local t pids=() failed=0
    run "generated/calib/$1.ranges" calibrate "models/$1.yaml" \
        --weights "models/$1.safetensors" --calib "$calib" --calib-images 2000 \
        -o "generated/calib/$1.ranges" || return 1
    for t in $targets; do compile "$1" "$t" int8 & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    return $failed
}
mkdir -p generated/calib
pids=()
for m in fmnist_xxs fmnist_v2_050; do
    int8_builds "$m" & pids+=($!)
    for t in $targets; do compile "$m" "$t" fp32 & pids+=($!); done
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
