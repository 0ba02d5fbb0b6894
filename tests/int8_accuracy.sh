#!/bin/bash
# INT8 accuracy of a shipped Fashion-MNIST model (MODEL=fmnist_xxs, the default, or
# MODEL=fmnist_v2_050 in the environment): compile it with --precision int8,
# calibrated on the first CALIB training images (never test images), build the classify
# example around it and evaluate the first LIMIT test images against the labels and against
# PyTorch's fp32 predictions (models/MODEL.test_preds.u8). Passes when top-1 accuracy is
# within 0.3 points of fp32 and the prediction is the same on >= 99 % of the images.
# SIZE (R or HxW): the model compiled at that input size instead of 64x64 (the description
# copied with that height and width); the fp32 reference is then mvitc's own fp32 build at
# that size (its arithmetic is checked against PyTorch at such sizes by multires.sh), run on
# all LIMIT images first.
# RANGES=FILE in the environment: the int8 build reads the ranges of that calibration
# (generated/calib/MODEL.ranges, which CI re-makes and diffs) instead of calibrating again;
# the file must say it was made by METHOD on CALIB images.
# usage: [MVITC_FLAGS=...] [RANGES=FILE] int8_accuracy.sh MVITC SOURCE_DIR WORK_DIR METHOD LIMIT [CALIB]
#        [TARGET] [SIZE]
set -euo pipefail
mvitc=$1 src=$2 work=$3 method=$4 limit=$5 calib=${6:-2000} target=${7:-generic} size=${8:-}
data=/usr/share/datasets/fashion-mnist
rm -rf "$work" && mkdir -p "$work" && cd "$work"
name=${MODEL:-fmnist_xxs}
model=$src/models/$name.yaml preds=$src/models/$name.test_preds.u8
if [ -n "$size" ]; then
    h=${size%x*} w=${size#*x}
    sed -E "s/^(  height:) [0-9]+\$/\1 $h/; s/^(  width:) [0-9]+\$/\1 $w/" "$model" > model.yaml
    grep -q "^  height: $h\$" model.yaml && grep -q "^  width: $w\$" model.yaml
    model=$PWD/model.yaml
fi
flags=()
[ "$target" = avx2 ] && flags=(-mavx2 -mfma)
build() { # PRECISION: compiles the model and the classify example around it
    local p=$1 extra=()
    if [ "$p" = int8 ] && [ -n "${RANGES:-}" ]; then
        grep -qx "method $method" "$RANGES" && grep -qx "images $calib" "$RANGES" ||
            { echo "FAIL: $RANGES is not a $method calibration on $calib images"; exit 1; }
        extra=(--ranges "$RANGES" ${MVITC_FLAGS:-})
    elif [ "$p" = int8 ]; then
        extra=(--calib "$data/train-images-idx3-ubyte.gz" --calib-images "$calib"
               --calib-method "$method" ${MVITC_FLAGS:-})
    fi
    "$mvitc" compile "$model" --weights "$src/models/$name.safetensors" --precision "$p" \
        --target "$target" -o "gen_$p" "${extra[@]}"
    cc -std=c11 -O2 "${flags[@]}" ${E2E_SANITIZE:-} -I"gen_$p" -I"$src/runtime" \
        -DMVIT_TARGET_NAME="\"$target $p\"" -DMVIT_MODEL="$name" \
        "$src/examples/classify/classify.c" "gen_$p/$name.c" \
        "$src/runtime/"mvrt_{image,pool,topk,time}.c -lz -lpng -lm -lpthread -o "classify_$p"
}
if [ -n "$size" ]; then
    build fp32
    ./classify_fp32 --eval "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" \
        --save-preds fp32_preds.u8
    preds=$PWD/fp32_preds.u8
fi
build int8
./classify_int8 --eval "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" \
    --limit "$limit" --compare "$preds" --min-agreement 99 --max-delta 0.3
