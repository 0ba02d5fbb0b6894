#!/bin/bash
# Cross-compiles tests/test_kernels_neon.c (with compiler/codegen/pack.c) for one ARM target and
# runs it under qemu-user. Static binaries, so qemu needs no -L sysroot. Compiled at test time,
# so the test always checks the current kernels, also in builds that skip the ALL target.
# usage: cross_kernels.sh CC QEMU SOURCE_DIR WORK_DIR [CFLAGS...]
set -euo pipefail
cc=$1 qemu=$2 src=$3 work=$4
shift 4
mkdir -p "$work"
"$cc" -std=c11 -O2 -static -Wall -Wextra -Werror -pedantic "$@" -I"$src/compiler" \
    "$src/tests/test_kernels_neon.c" "$src/compiler/codegen/pack.c" -lm \
    -o "$work/test_kernels_neon"
"$qemu" "$work/test_kernels_neon"
