#!/bin/bash
# Cross-compiles one self-contained kernel test (tests/TEST.c, with compiler/codegen/pack.c) for
# one ARM target and runs it under qemu-user. Static binaries, so qemu needs no -L sysroot.
# Compiled at test time, so the test always checks the current kernels, also in builds that
# skip the ALL target.
# usage: cross_kernels.sh TEST CC QEMU SOURCE_DIR WORK_DIR [CFLAGS...]
#   TEST: kernel_check (tests/kernel_check.c: the SIMD kernels against their scalar twins)
set -euo pipefail
test=$1 cc=$2 qemu=$3 src=$4 work=$5
shift 5
mkdir -p "$work"
"$cc" -std=c11 -O2 -static -Wall -Wextra -Werror -pedantic "$@" -I"$src/compiler" \
    "$src/tests/$test.c" "$src/compiler/codegen/pack.c" -lm -o "$work/$test"
"$qemu" "$work/$test"
