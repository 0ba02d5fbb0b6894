#!/bin/bash
# Cross-compiles every generated model file for the mobile triples and checks that it is
# freestanding there too: `clang --target=T -ffreestanding -O2 -c` with only clang's own headers
# visible (-nostdlibinc: this machine's /usr/include is glibc for x86-64 and would otherwise be
# searched for Android triples), then `llvm-nm -u` must print nothing. A target that cannot build
# for a triple by design (avx2 on ARM, neon on x86-64) is skipped with the reason printed.
# It also compile-checks the Android and iOS wrappers (examples/android, examples/ios,
# examples/common): with test stubs for jni.h/libc/pthreads/Foundation, since neither the NDK nor
# the iOS SDK is installed, and for x86_64-linux-gnu with the real glibc and JDK headers.
# usage: freestanding_triples.sh REPO_ROOT WORKDIR [GENERATED_DIR (default REPO_ROOT/generated)]
# env:   CLANG, LLVM_NM, LLVM_OBJDUMP, JAVA_HOME, JAVAC override the tools found on PATH;
#        MVITC (default REPO_ROOT/build/mvitc) gives the target registry: which CPUs each
#        target's files build for (`mvitc targets --tsv`, second column).
set -uo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 REPO_ROOT WORKDIR [GENERATED_DIR]" >&2
    exit 2
fi
root=$(cd "$1" && pwd) || exit 2
work=$2
gen=$(cd "${3:-$root/generated}" && pwd) || exit 2
obj=$work/obj
rm -rf "$obj" && mkdir -p "$obj" || exit 2

# ---- tools: the unversioned name, else the newest versioned one (Debian: clang-14, ...)
find_tool() { # NAME -> path on stdout, or nothing
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
        return
    fi
    compgen -c "$1-" 2>/dev/null | grep -E "^$1-[0-9]+$" | sort -t- -k3 -n | tail -1
}
CLANG=${CLANG:-$(find_tool clang)}
LLVM_NM=${LLVM_NM:-$(find_tool llvm-nm)}
LLVM_OBJDUMP=${LLVM_OBJDUMP:-$(find_tool llvm-objdump)}
if [ -z "$CLANG" ] || [ -z "$LLVM_NM" ]; then
    echo "freestanding_triples: error: need clang and llvm-nm (found clang='$CLANG'," \
         "llvm-nm='$LLVM_NM')" >&2
    exit 2
fi
echo "clang: $CLANG ($("$CLANG" --version | head -1)); llvm-nm: $LLVM_NM"
echo "generated sources: $gen"

TRIPLES=(aarch64-linux-android24 armv7a-linux-androideabi24 arm64-apple-ios14 x86_64-linux-gnu
         x86_64-linux-android24)
# Flags a real build for the triple adds on its own. Android: the NDK compiles everything with
# -fstack-protector-strong (its flags.cmake), and a protected function references libc's
# __stack_chk_fail (and, on 32-bit ARM, __stack_chk_guard); armeabi-v7a is ARMv7-A with NEON and
# VFPv4, softfp. Apple targets already get the stack protector from clang's Darwin default.
arch_flags() { # TRIPLE
    case $1 in
    armv7a-*-android*) echo "-fstack-protector-strong -mfpu=neon-vfpv4 -mfloat-abi=softfp" ;;
    *-android*) echo "-fstack-protector-strong" ;;
    esac
}
for t in "${TRIPLES[@]}"; do
    echo "  $t: $CLANG --target=$t -ffreestanding -nostdlibinc -O2 $(arch_flags "$t")" \
         "-std=c99 -Wall -Wextra -Werror -pedantic -c"
done
is_x86() { case $1 in x86_64-* | i?86-*) return 0 ;; esac; return 1; }

# ---- results: one row per check, printed as a table at the end
rows=() failures=0
row() { # CHECK TARGET TRIPLE RESULT DETAIL
    rows+=("$(printf '%-36s %-8s %-29s %-5s %s' "$1" "$2" "$3" "$4" "$5")")
    [ "$4" = FAIL ] && failures=$((failures + 1))
    printf '%-5s %s [%s] %s%s\n' "$4" "$1" "$3" "$2" "${5:+: $5}"
}
short() { echo "${1#"$root"/}"; }

# Runs a compile; on failure prints its output and returns 1.
compile() { # LOG CMD...
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        sed 's/^/    /' "$log" | head -40
        return 1
    fi
}

# Functions of OBJ that reference symbol SYM (for the failure message).
referencing_functions() { # OBJ SYM
    [ -n "$LLVM_OBJDUMP" ] || return 0
    # function labels (not ARM mapping symbols $a/$d or Mach-O ltmpN), then ELF (R_*) and
    # Mach-O (*RELOC*) relocations naming the symbol, possibly with an addend
    "$LLVM_OBJDUMP" -dr "$1" 2>/dev/null |
        awk -v s="$2" '/^[0-9a-f]+ <[^$].*>:$/ && $2 !~ /^<ltmp[0-9]+>:$/ {
                           fn = substr($2, 2, length($2) - 3)
                       }
                       /R_|RELOC/ && $0 ~ "[ \t]" s "([-+]0x[0-9a-f]+)?$" {print fn}' |
        sort -u | tr '\n' ' ' | sed 's/ $//'
}

# ---- 1. every generated model file, every triple
MVITC=${MVITC:-$root/build/mvitc}
registry=$("$MVITC" targets --tsv) || { echo "freestanding_triples: error: no $MVITC" >&2; exit 2; }
skip_reason() { # TARGET TRIPLE -> why this target cannot build for this triple, or nothing
    local t=${1%-int8} arch  # generated/<target>-int8: the int8 build of the same target
    arch=$(awk -F'\t' -v t="$t" '$1 == t { print $2 }' <<<"$registry")
    # Android's x86_64 ABI takes the x86-64 file (examples/android); the others are checked
    # on x86_64-linux-gnu
    if [ "$2" = x86_64-linux-android24 ] && [ "$t" != x86-64 ]; then
        echo "Android x86_64 builds take the x86-64 file (examples/android)"
        return
    fi
    case $arch in
    x86-64) is_x86 "$2" || echo "$t is for x86-64 CPUs only (mvitc targets)" ;;
    arm) is_x86 "$2" && echo "$t is for ARM CPUs only (mvitc targets)" ;;
    esac
}
mapfile -t gen_files < <(find "$gen" -mindepth 2 -maxdepth 2 -name '*.c' | sort)
if [ ${#gen_files[@]} -eq 0 ]; then
    row "generated files" - - FAIL "no <target>/<model>.c under $gen"
fi
for f in "${gen_files[@]}"; do
    target=$(basename "$(dirname "$f")")
    name=$(short "$f")
    for t in "${TRIPLES[@]}"; do
        reason=$(skip_reason "$target" "$t")
        if [ -n "$reason" ]; then
            row "$name" "$target" "$t" SKIP "$reason"
            continue
        fi
        o=$obj/$target-$(basename "$f" .c)-$t.o
        # shellcheck disable=SC2046 # arch_flags is a word list
        if ! compile "$o.log" "$CLANG" --target="$t" -ffreestanding -nostdlibinc -O2 \
            $(arch_flags "$t") -std=c99 -Wall -Wextra -Werror -pedantic -c "$f" -o "$o"; then
            row "$name" "$target" "$t" FAIL "does not compile (above)"
            continue
        fi
        undefined=$("$LLVM_NM" -u "$o" | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//')
        if [ -z "$undefined" ]; then
            row "$name" "$target" "$t" PASS "no undefined symbols"
            continue
        fi
        detail="undefined: $undefined"
        for s in $undefined; do
            fns=$(referencing_functions "$o" "$s")
            case $s in
            __aeabi_*div* | __aeabi_*mod*)
                detail+="; $s is an ARM EABI runtime helper (armv7-a has no guaranteed"
                detail+=" divide instruction: integer / or % by a runtime value)" ;;
            __aeabi_*) detail+="; $s is an ARM EABI runtime helper (libgcc/compiler-rt)" ;;
            __stack_chk_*) detail+="; $s is libc's stack protector (the NDK's default"
                           detail+=" -fstack-protector-strong)" ;;
            esac
            [ -n "$fns" ] && detail+="; $s called from: $fns"
        done
        row "$name" "$target" "$t" FAIL "$detail"
    done
done

# ---- 2. the mobile wrappers
# The model header they compile against: generic's (any triple), else the first target's.
hdr_dir=$gen/generic
[ -d "$hdr_dir" ] || hdr_dir=$(dirname "${gen_files[0]:-$gen/none/x.c}")
model=fmnist_xxs
if [ ! -f "$hdr_dir/$model.h" ]; then
    first=$(find "$hdr_dir" -maxdepth 1 -name '*.h' 2>/dev/null | sort | head -1)
    [ -n "$first" ] && model=$(basename "$first" .h)
fi
ex=$root/examples
warn=(-Wall -Wextra -Werror -pedantic)
stubs=(-nostdlibinc -isystem "$ex/common/test-stubs")
model_inc=(-I"$hdr_dir" -DMVIT_MODEL="$model" -I"$ex/common" -I"$root/runtime")
host_triple=x86_64-linux-gnu

if [ ! -f "$hdr_dir/$model.h" ]; then
    row "examples" - - FAIL "no model header under $hdr_dir to compile the wrappers against"
else
    echo "wrappers compile against $(short "$hdr_dir")/$model.h"
    # the shared core and the pool: stubs for Android/iOS, the real glibc headers for the host
    for src in examples/common/mvex_classifier.c runtime/mvrt_pool.c; do
        for t in "${TRIPLES[@]}"; do
            if [ "$t" = $host_triple ]; then inc=() how="glibc headers"; else
                inc=("${stubs[@]}") how="libc/pthread test stubs"
            fi
            o=$obj/$(basename "$src" .c)-$t.o
            # shellcheck disable=SC2046
            if compile "$o.log" "$CLANG" --target="$t" -O2 $(arch_flags "$t") -std=c11 \
                "${warn[@]}" "${inc[@]}" "${model_inc[@]}" -c "$root/$src" -o "$o"; then
                row "$src" - "$t" PASS "compiles (-c), $how"
            else
                row "$src" - "$t" FAIL "does not compile with $how (above)"
            fi
        done
    done

    # JNI glue: Android triples against the stub jni.h
    jni=examples/android/jni/mobilevit_jni.c
    for t in aarch64-linux-android24 armv7a-linux-androideabi24 x86_64-linux-android24; do
        o=$obj/mobilevit_jni-$t.o
        # shellcheck disable=SC2046
        if compile "$o.log" "$CLANG" --target="$t" -O2 $(arch_flags "$t") -std=c11 "${warn[@]}" \
            "${stubs[@]}" -isystem "$ex/android/test-stubs" "${model_inc[@]}" \
            -c "$root/$jni" -o "$o"; then
            row "$jni" - "$t" PASS "compiles (-c), stub jni.h + libc stubs"
        else
            row "$jni" - "$t" FAIL "does not compile against the stub jni.h (above)"
        fi
    done
    # ... and on the host against a real JDK's jni.h, with the prototypes javac -h derives from
    # MobileVitClassifier.java forced in: a Java/C signature mismatch is a conflicting-types error
    javac=${JAVAC:-$(command -v javac || true)}
    jdk=${JAVA_HOME:-}
    [ -z "$jdk" ] && [ -n "$javac" ] && jdk=$(dirname "$(dirname "$(readlink -f "$javac")")")
    [ -z "$javac" ] && [ -n "$jdk" ] && [ -x "$jdk/bin/javac" ] && javac=$jdk/bin/javac
    if [ -z "$jdk" ] || [ ! -f "$jdk/include/jni.h" ] ||
        [ ! -f "$jdk/include/linux/jni_md.h" ]; then
        row "$jni" - $host_triple SKIP "no JDK with include/jni.h (set JAVA_HOME)"
    else
        java_src=$ex/android/java/com/example/mvitc/MobileVitClassifier.java
        natives=()
        if [ -n "$javac" ] && "$javac" -h "$obj/jni-h" -d "$obj/jni-classes" "$java_src" \
            >"$obj/javac.log" 2>&1; then
            natives=(-include "$obj/jni-h/com_example_mvitc_MobileVitClassifier.h")
        fi
        o=$obj/mobilevit_jni-$host_triple.o
        if compile "$o.log" "$CLANG" --target=$host_triple -O2 -std=c11 "${warn[@]}" \
            -I"$jdk/include" -I"$jdk/include/linux" "${natives[@]}" "${model_inc[@]}" \
            -c "$root/$jni" -o "$o"; then
            if [ ${#natives[@]} -eq 0 ]; then
                row "$jni" - $host_triple PASS "real jni.h (no javac -h: natives unchecked)"
            else
                # every native method of the Java class has its C function
                want=$(grep -o 'Java_[A-Za-z0-9_]*' "${natives[1]}" | sort -u)
                have=$("$LLVM_NM" --defined-only "$o" | grep -o 'Java_[A-Za-z0-9_]*' | sort -u)
                missing=$(comm -23 <(echo "$want") <(echo "$have") | tr '\n' ' ')
                if [ -z "$missing" ]; then
                    n=$(echo "$want" | wc -l)
                    row "$jni" - $host_triple PASS "real jni.h; all $n natives of javac -h match"
                else
                    row "$jni" - $host_triple FAIL "natives without a C function: $missing"
                fi
            fi
        else
            row "$jni" - $host_triple FAIL "does not compile against $jdk/include/jni.h (above)"
        fi
    fi

    # iOS: the C parts (core via MVTCore.c, the per-architecture model switch MVTModel.c) for a
    # device and both simulators; MVTClassifier.m only as syntax against a stub Foundation.h
    ios_triples=(arm64-apple-ios14 arm64-apple-ios14-simulator x86_64-apple-ios14-simulator)
    for t in "${ios_triples[@]}"; do
        o=$obj/MVTCore-$t.o
        if compile "$o.log" "$CLANG" --target="$t" -O2 -std=c11 "${warn[@]}" "${stubs[@]}" \
            -I"$ex/ios" -I"$gen" -I"$ex/common" -I"$root/runtime" \
            -c "$ex/ios/MVTCore.c" -o "$o"; then
            row "examples/ios/MVTCore.c" - "$t" PASS "compiles (-c), libc/pthread test stubs"
        else
            row "examples/ios/MVTCore.c" - "$t" FAIL "does not compile (above)"
        fi
        if [ ! -f "$gen/generic/fmnist_xxs.c" ]; then
            row "examples/ios/MVTModel.c" - "$t" SKIP "needs generic/fmnist_xxs.c in $gen"
            continue
        fi
        # which generated file the switch picks on this architecture (for the table)
        picked=$("$CLANG" --target="$t" -ffreestanding -nostdlibinc -I"$gen" -E -H \
            "$ex/ios/MVTModel.c" 2>&1 >/dev/null | grep -o '[a-z0-9]*/fmnist_xxs\.h' | head -1)
        if compile "$obj/MVTModel-$t.log" "$CLANG" --target="$t" -ffreestanding -nostdlibinc \
            -std=c99 "${warn[@]}" -I"$gen" -fsyntax-only "$ex/ios/MVTModel.c"; then
            row "examples/ios/MVTModel.c" - "$t" PASS "syntax only; picks ${picked%.h}.c"
        else
            row "examples/ios/MVTModel.c" - "$t" FAIL "does not compile (above)"
        fi
    done
    t=arm64-apple-ios14
    if compile "$obj/MVTClassifier-$t.log" "$CLANG" --target=$t -x objective-c -fobjc-arc \
        -fsyntax-only -std=c11 -Wall -Wextra -Werror "${stubs[@]}" \
        -isystem "$ex/ios/test-stubs" -I"$ex/ios" -I"$gen" -I"$ex/common" \
        "$ex/ios/MVTClassifier.m"; then
        row "examples/ios/MVTClassifier.m" - $t PASS "syntax only, vs a STUB Foundation.h"
    else
        row "examples/ios/MVTClassifier.m" - $t FAIL "syntax errors against the stub (above)"
    fi
fi

# ---- summary
echo
printf '%-36s %-8s %-29s %-5s %s\n' CHECK TARGET TRIPLE RESULT DETAIL
for r in "${rows[@]}"; do
    echo "$r"
done
echo
if [ $failures -gt 0 ]; then
    echo "freestanding_triples: $failures check(s) FAILED"
    exit 1
fi
echo "freestanding_triples: all checks passed"
