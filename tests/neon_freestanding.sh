#!/bin/bash
# The NEON kernels as they ship: tests/neon_freestanding.c (all of them in one file) must
# compile warning-free with -ffreestanding for Android arm64-v8a (also with the dot product)
# and armeabi-v7a (clang) and for AArch64 / ARMv7 Linux (the GCC cross compilers, when
# given), and the objects must have no undefined symbols (no libm, no memcpy/memset, no
# __aeabi_idiv).
# usage: neon_freestanding.sh SOURCE_DIR WORK_DIR CLANG NM [GCC_AARCH64 [GCC_ARMV7]]
set -euo pipefail
src=$1 work=$2 clang=$3 nm=$4 gcc64=${5:-} gcc32=${6:-}
mkdir -p "$work"
flags=(-std=c99 -ffreestanding -Wall -Wextra -Werror -pedantic -I"$src/compiler" -c
       "$src/tests/neon_freestanding.c")
check() { # NAME COMPILER ARGS...
    local name=$1 cc=$2
    shift 2
    "$cc" "$@" "${flags[@]}" -o "$work/$name.o"
    local undefined
    undefined=$("$nm" -u "$work/$name.o")
    if [ -n "$undefined" ]; then
        echo "FAIL: $name: undefined symbols:"; echo "$undefined"; exit 1
    fi
    echo "$name: no undefined symbols"
}
for opt in -O2 -O3; do
    check "android-arm64$opt" "$clang" --target=aarch64-linux-android24 $opt
    # the int8 GEMM's sdot path (ARMv8.2 dot product)
    check "android-arm64-dotprod$opt" "$clang" --target=aarch64-linux-android24 \
        -march=armv8.2-a+dotprod $opt
    check "android-armv7$opt" "$clang" --target=armv7a-linux-androideabi24 -mfpu=neon-vfpv4 \
        -mfloat-abi=softfp $opt
    if [ -n "$gcc64" ]; then
        check "gcc-aarch64$opt" "$gcc64" $opt
        check "gcc-aarch64-dotprod$opt" "$gcc64" -march=armv8.2-a+dotprod $opt
    fi
    if [ -n "$gcc32" ]; then
        check "gcc-armv7$opt" "$gcc32" -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard $opt
    fi
done
