#!/bin/bash
# End-to-end test of one model description: PyTorch golden data (random timm-named weights)
# -> mvitc compile -> the generated C is (1) byte-identical when compiled twice, (2) a
# freestanding object with no undefined symbols under clang and gcc, (3) within REL_TOL *
# max|logit| of PyTorch's logits.
# usage: e2e.sh MVITC SOURCE_DIR MODEL.yaml WORK_DIR [REL_TOL] [extra make_golden args...]
# E2E_ARCHES="aarch64 armv7" (with MVITC_FLAGS="--target neon"): instead of the host, build
# static binaries as those builds of the target registry say (mvitc targets --builds: Debian's
# cross compilers) and run them under qemu-user.
# E2E_COMPILERS (default "clang gcc"): the host compilers of check (2); clang's object runs.
set -euo pipefail
mvitc=$1 src=$2 model=$3 work=$4 tol=${5:-1e-4}
shift 5 || shift $#
rm -rf "$work" && mkdir -p "$work"
cd "$work"

/usr/bin/python3 "$src/tools/make_golden.py" "$src/$model" golden "$@"
# MVITC_FLAGS: extra compiler flags, e.g. --no-fusion to test the unfused graph end to end
# twice, from two directories with the same relative paths (the banner records the command)
mkdir again && ln -s ../golden again/golden
"$mvitc" compile "$src/$model" --weights golden/weights.safetensors --name net -o gen ${MVITC_FLAGS:-}
(cd again && "$mvitc" compile "$src/$model" --weights golden/weights.safetensors --name net -o gen \
    ${MVITC_FLAGS:-})
if ! cmp gen/net.c again/gen/net.c || ! cmp gen/net.h again/gen/net.h; then
    echo "FAIL: two compilations of the same inputs differ"; exit 1
fi
echo "deterministic: yes (byte-identical .c and .h)"

# cross_arch BUILD: sets xcc, xflags, qemu from the target registry's build of that name
# (mvitc targets --builds: aarch64, armv7, ...)
cross_arch() {
    local row
    row=$("$mvitc" targets --builds | awk -F'\t' -v b="$1" '$2 == b')
    [ -n "$row" ] || { echo "e2e.sh: no build '$1' in mvitc targets --builds"; exit 2; }
    IFS=$'\t' read -r _ _ xcc xflags _ qemu <<< "$row"
    if [ "$xflags" = - ]; then xflags=""; fi
    if [ "$qemu" = - ]; then qemu=""; fi
}

# expect_freestanding OBJ WHAT: the object must have no undefined symbols
expect_freestanding() {
    local undefined
    undefined=$(nm -u "$1" 2>/dev/null || llvm-nm -u "$1")
    if [ -n "$undefined" ]; then
        echo "FAIL: $2 -ffreestanding object has undefined symbols:"; echo "$undefined"; exit 1
    fi
    echo "freestanding ($2 -O2): no undefined symbols"
}

if [ -n "${E2E_ARCHES:-}" ]; then
    for arch in $E2E_ARCHES; do
        cross_arch "$arch"
        # shellcheck disable=SC2086
        $xcc $xflags -std=c99 -O2 -ffreestanding -Wall -Wextra -Werror -pedantic -c gen/net.c \
            -o "net_$arch.o"
        expect_freestanding "net_$arch.o" "$xcc"
        # sanitizer builds: the generated code runs with UBSan in trap mode (no runtime library
        # needed under qemu: any undefined behaviour stops the run with SIGILL/SIGTRAP)
        run_obj="net_$arch.o"
        if [ -n "${E2E_SANITIZE:-}" ]; then
            # shellcheck disable=SC2086
            $xcc $xflags -std=c99 -O2 -fsanitize=undefined -fsanitize-undefined-trap-on-error \
                -c gen/net.c -o "net_${arch}_ubsan.o"
            run_obj="net_${arch}_ubsan.o"
            echo "(the $arch run uses UBSan in trap mode)"
        fi
        # shellcheck disable=SC2086
        # the harness at -O1: Debian's aarch64 GCC 12 vectoriser crashes on it at -O2
        $xcc $xflags -std=c11 -O1 -static -Wall -Wextra -Werror -Igen -I"$src/runtime" \
            "$src/tests/e2e_main.c" "$src/runtime/mvrt_pool.c" "$run_obj" -lm -lpthread \
            -o "e2e_$arch"
        echo "--- $arch under $qemu"
        $qemu "./e2e_$arch" golden/input.f32 golden/logits.f32 "$tol"
    done
    exit 0
fi

for cc in ${E2E_COMPILERS:-clang gcc}; do
    $cc -std=c99 -O2 -ffreestanding -Wall -Wextra -Werror -pedantic -c gen/net.c -o net_$cc.o
    expect_freestanding net_$cc.o $cc
done
# E2E_CPU: /proc/cpuinfo flags the host needs to run the file (an ISA target's build)
for flag in ${E2E_CPU:-}; do
    if ! grep -qw "$flag" /proc/cpuinfo; then
        echo "skipped: no $flag on this CPU (the file was compiled and checked freestanding, not run)"
        exit 77
    fi
done
# the freestanding clang object is the one that runs; E2E_SANITIZE (set in sanitizer builds):
# the generated code itself is rebuilt with those -fsanitize flags and must run clean
run_obj=net_clang.o
[ -n "${E2E_SANITIZE:-}" ] && run_obj=gen/net.c
# shellcheck disable=SC2086
clang -std=c11 -O2 ${E2E_SANITIZE:-} -Wall -Wextra -Werror -Igen -I"$src/runtime" \
    "$src/tests/e2e_main.c" "$src/runtime/mvrt_pool.c" "$run_obj" -lm -lpthread -o e2e
./e2e golden/input.f32 golden/logits.f32 "$tol"
