#!/bin/bash
# The x86-64 target: one file holding the generic, avx2 and avx512 code paths, one chosen at
# run time by CPUID/XGETBV. For fp32 and int8 builds of one model (random timm-named weights,
# tools/make_golden.py; int8 calibrated on the test images): the file is deterministic and
# freestanding (clang and gcc, no undefined symbols); tests/x86_paths_main.c runs every path
# the CPU has through P_select_path (the others report "skipped"), plus the path the file
# picks by itself; then
#   fp32: each path within 1e-4 * max|logit| of PyTorch; the generic path (forced baseline)
#         within 1e-6 * max|logit| of the generic target's file, avx2 and avx512 bit-identical
#         to those targets' files (the same kernels);
#   int8: every path's logits identical bytes to the generic int8 file's.
# usage: x86_paths.sh MVITC SOURCE_DIR MODEL.yaml WORK_DIR N
set -euo pipefail
mvitc=$1 src=$2 model=$3 work=$4 n=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work"
/usr/bin/python3 "$src/tools/make_golden.py" "$src/$model" golden
/usr/bin/python3 - "$n" <<'PY'
import sys, numpy as np
n = int(sys.argv[1])
first = np.fromfile("golden/input.f32", np.float32)
rng = np.random.default_rng(11)
rest = rng.standard_normal((n - 1) * first.size).astype(np.float32)
np.concatenate([first, rest]).tofile("inputs.f32")
PY

# runs BUILD_DIR OUT.f32: the single-target file's logits on every image (e2e_main --preds)
run_single() {
    clang -std=c11 -O2 -Wall -Wextra -Werror -I"$1" -I"$src/runtime" "$src/tests/e2e_main.c" \
        "$src/runtime/mvrt_pool.c" "$1/net.c" -lm -lpthread -o "$1/e2e"
    "$1/e2e" --preds inputs.f32 "$1/preds.u8" "$2" > /dev/null
}
# cpu_has FLAGS...: whether /proc/cpuinfo lists every flag
cpu_has() {
    local f
    for f in "$@"; do grep -qw "$f" /proc/cpuinfo || return 1; done
}

for prec in fp32 int8; do
    echo "--- $prec"
    flags=()
    [ "$prec" = int8 ] && flags=(--precision int8 --calib inputs.f32)
    for t in generic avx2 avx512 x86-64; do
        "$mvitc" compile "$src/$model" --weights golden/weights.safetensors --target "$t" \
            --name net -o "$prec/$t" "${flags[@]}" 2> /dev/null
    done
    # again from another directory with the same relative paths: byte-identical files
    mkdir -p again && ln -sfn ../golden again/golden && ln -sf ../inputs.f32 again/inputs.f32
    (cd again && "$mvitc" compile "$src/$model" --weights golden/weights.safetensors \
        --target x86-64 --name net -o "$prec/x86-64" "${flags[@]}" 2> /dev/null)
    if ! cmp -s "$prec/x86-64/net.h" "again/$prec/x86-64/net.h" ||
        ! cmp -s "$prec/x86-64/net.c" "again/$prec/x86-64/net.c"; then
        echo "FAIL: two compilations of the x86-64 file differ"; exit 1
    fi
    for cc in clang gcc; do
        $cc -std=c99 -O2 -ffreestanding -Wall -Wextra -Werror -pedantic -c "$prec/x86-64/net.c" \
            -o "$prec/x86-64/net_$cc.o"
        undefined=$(nm -u "$prec/x86-64/net_$cc.o")
        if [ -n "$undefined" ]; then
            echo "FAIL: $cc object of the x86-64 file has undefined symbols:"; echo "$undefined"
            exit 1
        fi
    done
    echo "x86-64 file: deterministic, freestanding (clang, gcc -O2: no undefined symbols)"
    clang -std=c11 -O2 -Wall -Wextra -Werror -I"$prec/x86-64" "$src/tests/x86_paths_main.c" \
        "$prec/x86-64/net_clang.o" -o "$prec/x86_paths"
    "./$prec/x86_paths" inputs.f32 "$prec/path_"
    run_single "$prec/generic" "$prec/generic.f32"
    cpu_has avx2 fma && run_single "$prec/avx2" "$prec/avx2.f32"
    cpu_has avx512f avx512bw avx512dq avx512vl && run_single "$prec/avx512" "$prec/avx512.f32"
    /usr/bin/python3 - "$prec" <<'PY'
import os, sys, numpy as np
prec = sys.argv[1]
torch = np.fromfile("golden/logits.f32", np.float32)
classes = torch.size
scale = float(np.abs(torch).max())
bad = 0
def load(p):
    return np.fromfile(p, np.float32).reshape(-1, classes)
generic = load(f"{prec}/generic.f32")
for path in ("generic", "avx2", "avx512"):
    f = f"{prec}/path_{path}.f32"
    if not os.path.exists(f):
        print(f"path {path}: skipped (this CPU cannot run it)")
        continue
    got = load(f)
    d_torch = float(np.abs(got[0] - torch).max())
    single = f"{prec}/{path}.f32"
    same = os.path.exists(single) and open(single, "rb").read() == open(f, "rb").read()
    d_gen = float(np.abs(got - generic).max())
    line = (f"path {path}: max|path - torch| {d_torch:.3g} ({d_torch / scale:.2g} of max|logit|), "
            f"max|path - generic file| {d_gen:.3g}, identical to the {path} file: "
            f"{'yes' if same else 'no'}")
    print(line)
    if prec == "fp32":
        ok = d_torch <= 1e-4 * scale and same
        if path == "generic":
            ok = ok and d_gen <= 1e-6 * float(np.abs(generic).max())
    else:
        ok = open(f, "rb").read() == open(f"{prec}/generic.f32", "rb").read()
    if not ok:
        print(f"FAIL: path {path}")
        bad += 1
sys.exit(1 if bad else 0)
PY
done
echo "PASS"
