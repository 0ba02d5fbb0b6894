#!/bin/bash
# The MobileViT v2/v3 end-to-end matrix of issue 21 against PyTorch (random timm-named weights,
# tests/e2e.sh): v2 050, 100 and 200 and v3 XXS and 0.5 at 256x256, v2 050 at 224x224 (its
# last block's resize), each on generic, avx2 (where the CPU has AVX2+FMA) and neon (AArch64
# under qemu-user). CI runs the small ones (ctest -L e2e); this script adds the large variants:
# 14 minutes on this 2-core machine (v2-2.0: 8), one line per case.
# usage: tests/family_e2e.sh MVITC WORK_DIR [REL_TOL]
#   FAMILY_CASES="mobilevitv2_200:256 ..." and FAMILY_TARGETS="neon" select part of it
set -uo pipefail
mvitc=$(realpath "$1") work=$2 tol=${3:-1e-4}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
work=$(realpath "$work")

# model_at MODEL SIZE: the description at SIZE x SIZE, as a path relative to the source tree
model_at() {
    local out="$work/$(basename "$1" .yaml)_$2.yaml"
    sed -E "s/^(  height:) [0-9]+\$/\1 $2/; s/^(  width:) [0-9]+\$/\1 $2/" "$src/$1" > "$out"
    realpath --relative-to="$src" "$out"
}

targets="generic neon"
grep -q avx2 /proc/cpuinfo && grep -q fma /proc/cpuinfo && targets="generic avx2 neon"
targets=${FAMILY_TARGETS:-$targets}
fails=0
all="mobilevitv2_050:256 mobilevitv2_100:256 mobilevitv2_200:256 mobilevitv2_050:224
     mobilevitv3_xxs:256 mobilevitv3_050:256"
for case in ${FAMILY_CASES:-$all}; do
    name=${case%:*} size=${case#*:}
    model=models/$name.yaml
    [ "$size" = 256 ] || model=$(model_at "$model" "$size")
    for t in $targets; do
        dir="$work/${name}_${size}_$t"
        env=(MVITC_FLAGS="--target $t")
        [ "$t" = neon ] && env+=(E2E_ARCHES=aarch64)
        start=$(date +%s)
        if env "${env[@]}" "$src/tests/e2e.sh" "$mvitc" "$src" "$model" "$dir" "$tol" \
            > "$dir.log" 2>&1; then verdict=ok; else verdict=FAIL; fails=$((fails + 1)); fi
        printf '%-5s %-16s %4s %-8s %4ss  %s\n' "$verdict" "$name" "$size" "$t" \
            $(($(date +%s) - start)) "$(grep -h 'max|logit|' "$dir.log" | tail -1)"
    done
done
echo "$fails failed"
[ "$fails" = 0 ]
