#!/bin/bash
# INT8 accuracy of the shipped Fashion-MNIST model: compile it with --precision int8,
# calibrated on the first CALIB training images (never test images), build the classify
# example around it and evaluate the first LIMIT test images against the labels and against
# PyTorch's fp32 predictions (models/fmnist_xxs.test_preds.u8). Passes when top-1 accuracy is
# within 0.3 points of fp32 and the prediction is the same on >= 99 % of the images.
# usage: [MVITC_FLAGS=...] int8_accuracy.sh MVITC SOURCE_DIR WORK_DIR METHOD LIMIT [CALIB] [TARGET]
set -euo pipefail
mvitc=$1 src=$2 work=$3 method=$4 limit=$5 calib=${6:-2000} target=${7:-generic}
data=/usr/share/datasets/fashion-mnist
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$mvitc" compile "$src/models/fmnist_xxs.yaml" --weights "$src/models/fmnist_xxs.safetensors" \
    --precision int8 --calib "$data/train-images-idx3-ubyte.gz" --calib-images "$calib" \
    --calib-method "$method" --target "$target" -o gen ${MVITC_FLAGS:-}
flags=()
[ "$target" = avx2 ] && flags=(-mavx2 -mfma)
cc -std=c11 -O2 "${flags[@]}" ${E2E_SANITIZE:-} -Igen -I"$src/runtime" \
    -DMVIT_TARGET_NAME="\"$target int8\"" "$src/examples/classify/classify.c" gen/fmnist_xxs.c \
    "$src/runtime/"mvrt_{image,pool,topk,time}.c -lz -lpng -lm -lpthread -o classify_int8
./classify_int8 --eval "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" \
    --limit "$limit" --compare "$src/models/fmnist_xxs.test_preds.u8" --min-agreement 99 \
    --max-delta 0.3
