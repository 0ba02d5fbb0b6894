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
for t in $targets; do
    "$mvitc" compile models/fmnist_xxs.yaml --weights models/fmnist_xxs.safetensors \
        --target "$t" --precision fp32 --name fmnist_xxs -o "generated/$t"
    "$mvitc" compile models/fmnist_xxs.yaml --weights models/fmnist_xxs.safetensors \
        --target "$t" --precision int8 --calib "$calib" --calib-images 2000 \
        --name fmnist_xxs -o "generated/$t-int8"
done
