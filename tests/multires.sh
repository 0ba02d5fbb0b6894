#!/bin/bash
# Several input sizes from one description (mvitc compile --resolution R1,HxW,...): one file
# with net_run_<R> (square) or net_run_<H>x<W> per size. Sizes whose maps do not split into
# whole patches run the references' resize inside the unfold/fold. Checks that (1) every
# entry point matches PyTorch at its size within REL_TOL * max|logit| (the same random
# weights, a fresh image per size), (2) the weights are in the file once: its constants equal
# those of a single build at the largest size, and its object's read-only data exceeds that
# build's by less than 1 %, (3) the file is deterministic and freestanding, (4) sizes below 32
# and malformed entries are rejected with a message naming them.
# TARGET neon: built for AArch64 and run under qemu-user.
# usage: multires.sh MVITC SOURCE_DIR MODEL.yaml WORK_DIR TARGET R1,HxW,... [REL_TOL]
set -euo pipefail
mvitc=$1 src=$2 model=$3 work=$4 target=$5 list=$6 tol=${7:-1e-4}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
IFS=, read -r -a sizes <<<"$list"
largest="" largest_area=0
for r in "${sizes[@]}"; do
    /usr/bin/python3 "$src/tools/make_golden.py" "$src/$model" "golden_$r" --resolution "$r"
    h=${r%x*} w=${r#*x}
    if [ $((h * w)) -gt "$largest_area" ]; then largest=$r largest_area=$((h * w)); fi
done
# the same seed gives the same weights whatever the resolution: one weights file serves all
for r in "${sizes[@]}"; do
    cmp "golden_${sizes[0]}/weights.safetensors" "golden_$r/weights.safetensors"
done
weights=golden_${sizes[0]}/weights.safetensors

"$mvitc" compile "$src/$model" --weights "$weights" --target "$target" --name net \
    --resolution "$list" -o gen
# twice, from two directories with the same relative paths (the banner records the command)
mkdir again && ln -s "../golden_${sizes[0]}" "again/golden_${sizes[0]}"
(cd again && "$mvitc" compile "$src/$model" --weights "$weights" --target "$target" --name net \
    --resolution "$list" -o gen)
if ! cmp gen/net.c again/gen/net.c || ! cmp gen/net.h again/gen/net.h; then
    echo "FAIL: two compilations of the same inputs differ"; exit 1
fi
echo "deterministic: yes (byte-identical .c and .h)"

flags=() cc=clang run=()
case $target in
    avx2) flags=(-mavx2 -mfma) ;;
    neon) cc=aarch64-linux-gnu-gcc run=(qemu-aarch64) ;;
esac
$cc -std=c99 -O2 "${flags[@]}" -ffreestanding -Wall -Wextra -Werror -pedantic -c gen/net.c \
    -o net.o
if [ -n "$(nm -u net.o)" ]; then echo "FAIL: undefined symbols:"; nm -u net.o; exit 1; fi
echo "freestanding: no undefined symbols"

# (2) weights once
"$mvitc" compile "$src/$model" --weights "$weights" --target "$target" --name net \
    --resolution "$largest" -o single
constants() { sed -n 's/^ \* constants: \([0-9]*\) bytes.*/\1/p' "$1"; }
multi_c=$(constants gen/net.c) single_c=$(constants single/net.c)
$cc -std=c99 -O2 "${flags[@]}" -ffreestanding -c single/net.c -o single.o
rodata() { size -A "$1" | awk '$1 ~ /^\.rodata/ { s += $2 } END { print s + 0 }'; }
multi_r=$(rodata net.o) single_r=$(rodata single.o)
echo "constants: $multi_c bytes for ${#sizes[@]} resolutions, $single_c for $largest alone;" \
     ".rodata $multi_r vs $single_r bytes"
if [ "$multi_c" != "$single_c" ] || [ $((multi_r * 100)) -ge $((single_r * 101)) ]; then
    echo "FAIL: the weights are not shared between the resolutions"; exit 1
fi

# (1) each entry point against PyTorch (e2e_main.c bound to that size's names); one object of
# the generated file serves every harness
$cc -std=c11 -O2 "${flags[@]}" ${E2E_SANITIZE:-} -c gen/net.c -o net_run.o
for r in "${sizes[@]}"; do
    # shellcheck disable=SC2086
    $cc -std=c11 -O1 "${flags[@]}" ${E2E_SANITIZE:-} -Wall -Wextra -Werror -Igen \
        -I"$src/runtime" -Dnet_run=net_run_$r -Dnet_run_parallel=net_run_parallel_$r \
        -Dnet_run_u8=net_run_u8_$r -Dnet_INPUT_HEIGHT=net_INPUT_HEIGHT_$r \
        -Dnet_INPUT_WIDTH=net_INPUT_WIDTH_$r "$src/tests/e2e_main.c" "$src/runtime/mvrt_pool.c" \
        net_run.o $([ "$target" = neon ] && echo -static) -lm -lpthread -o "e2e_$r"
    h=${r%x*} w=${r#*x}
    echo "--- net_run_$r: $(grep -c "^ \* resized: .*(input ${h}x${w})" gen/net.c || true) blocks resized"
    "${run[@]}" "./e2e_$r" "golden_$r/input.f32" "golden_$r/logits.f32" "$tol"
done

# (4) sizes the compiler must refuse, each named in the message, with nothing written
for bad in 16 31x64 64x 64x0 abc 64.5; do
    if "$mvitc" compile "$src/$model" --weights "$weights" --target "$target" --name net \
        --resolution "$list,$bad" -o bad 2>err.txt; then
        echo "FAIL: --resolution $bad was accepted"; exit 1
    fi
    grep -q "'$bad' is not a size" err.txt || { echo "FAIL: unclear message:"; cat err.txt; exit 1; }
    [ ! -e bad/net.c ] || { echo "FAIL: output written despite the error"; exit 1; }
    echo "rejected: $(cat err.txt)"
done
