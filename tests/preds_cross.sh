#!/bin/bash
# The shipped Fashion-MNIST model on N real test images: the NEON build, cross-compiled for
# AArch64 and ARMv7 and run under qemu-user, must give the same top-1 class as the generic
# build on the host on >= MIN_AGREE % of the images and as PyTorch's predictions
# (models/fmnist_xxs.test_preds.u8), and logits within 1e-4 x max|logit| of PyTorch's on
# every image.
# usage: preds_cross.sh MVITC SOURCE_DIR WORK_DIR [N] [MIN_AGREE]
set -euo pipefail
mvitc=$1 src=$2 work=$3 n=${4:-1000} min_agree=${5:-99.9}
rm -rf "$work" && mkdir -p "$work" && cd "$work"

/usr/bin/python3 "$src/tools/fmnist_inputs.py" "$src/models/fmnist_xxs.yaml" "$n" inputs.f32 \
    "$src/models/fmnist_xxs.safetensors" torch_logits.f32
head -c "$n" "$src/models/fmnist_xxs.test_preds.u8" > torch.u8
for t in generic neon; do
    "$mvitc" compile "$src/models/fmnist_xxs.yaml" --weights "$src/models/fmnist_xxs.safetensors" \
        --target $t --name net -o gen_$t
done
build() { # build CC OUT GEN_DIR [flags...]
    local cc=$1 out=$2 gen=$3
    shift 3
    $cc "$@" -std=c11 -O2 -Wall -Wextra -Werror -I"$gen" -I"$src/runtime" "$src/tests/e2e_main.c" \
        "$src/runtime/mvrt_pool.c" "$gen/net.c" -lm -lpthread -o "$out"
}
build clang preds_generic gen_generic
./preds_generic --preds inputs.f32 generic.u8
build aarch64-linux-gnu-gcc preds_aarch64 gen_neon -static
qemu-aarch64 ./preds_aarch64 --preds inputs.f32 neon_aarch64.u8 neon_aarch64.f32
build arm-linux-gnueabihf-gcc preds_armv7 gen_neon -static -march=armv7-a -mfpu=neon-vfpv4 \
    -mfloat-abi=hard
qemu-arm ./preds_armv7 --preds inputs.f32 neon_armv7.u8 neon_armv7.f32

/usr/bin/python3 - "$n" "$min_agree" <<'PY'
import sys
import numpy as np
n, min_agree = int(sys.argv[1]), float(sys.argv[2])
p = {k: open(f"{k}.u8", "rb").read() for k in ("torch", "generic", "neon_aarch64", "neon_armv7")}
fail = False
for k in ("neon_aarch64", "neon_armv7"):
    for ref in ("generic", "torch"):
        same = sum(a == b for a, b in zip(p[k], p[ref]))
        pct = 100.0 * same / n
        ok = len(p[k]) == n and pct >= min_agree
        fail |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {k} vs {ref}: {same}/{n} identical top-1 ({pct:.2f} %, "
              f"need {min_agree} %)")
ref = np.fromfile("torch_logits.f32", dtype=np.float32).reshape(n, -1)
for k in ("neon_aarch64", "neon_armv7"):
    got = np.fromfile(f"{k}.f32", dtype=np.float32).reshape(n, -1)
    rel = (np.abs(got - ref).max(axis=1) / np.abs(ref).max(axis=1)).max()
    ok = rel <= 1e-4
    fail |= not ok
    print(f"{'ok  ' if ok else 'FAIL'} {k} logits vs PyTorch: worst max|diff| / max|logit| "
          f"{rel:.2g} over {n} images (limit 1e-4)")
same = sum(a == b for a, b in zip(p["generic"], p["torch"]))
print(f"(generic vs torch: {same}/{n})")
sys.exit(1 if fail else 0)
PY
