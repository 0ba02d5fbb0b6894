#!/bin/bash
# End-to-end test of one model description: PyTorch golden data (random timm-named weights)
# -> mvitc compile -> the generated C is (1) byte-identical when compiled twice, (2) a
# freestanding object with no undefined symbols under clang and gcc, (3) within REL_TOL *
# max|logit| of PyTorch's logits.
# usage: e2e.sh MVITC SOURCE_DIR MODEL.yaml WORK_DIR [REL_TOL] [extra make_golden args...]
set -euo pipefail
mvitc=$1 src=$2 model=$3 work=$4 tol=${5:-1e-4}
shift 5 || shift $#
rm -rf "$work" && mkdir -p "$work"
cd "$work"

/usr/bin/python3 "$src/tools/make_golden.py" "$src/$model" golden "$@"
# MVITC_FLAGS: extra compiler flags, e.g. --no-fusion to test the unfused graph end to end
"$mvitc" compile "$src/$model" --weights golden/weights.safetensors --name net -o gen ${MVITC_FLAGS:-}
"$mvitc" compile "$src/$model" --weights golden/weights.safetensors --name net -o gen2 ${MVITC_FLAGS:-}
cmp gen/net.c gen2/net.c && cmp gen/net.h gen2/net.h && echo "deterministic: yes"

for cc in clang gcc; do
    $cc -std=c99 -O2 -ffreestanding -Wall -Wextra -Werror -pedantic -c gen/net.c -o net_$cc.o
    undefined=$(nm -u net_$cc.o)
    if [ -n "$undefined" ]; then
        echo "FAIL: $cc -ffreestanding object has undefined symbols:"; echo "$undefined"; exit 1
    fi
    echo "freestanding ($cc -O2): no undefined symbols"
done
# the freestanding clang object is the one that runs
clang -std=c11 -O2 -Wall -Wextra -Werror -Igen -I"$src/runtime" "$src/tests/e2e_main.c" \
    "$src/runtime/mvrt_pool.c" net_clang.o -lm -lpthread -o e2e
./e2e golden/input.f32 golden/logits.f32 "$tol"
