#!/bin/bash
# End-to-end test of PyTorch checkpoints (torch.save .pt) in timm's and ml-cvnets' layouts:
# tools/make_checkpoint.py writes random reference weights as both layouts (F32 and F16, plus
# wrapped, "module."-prefixed and non-contiguous-view variants) with PyTorch's logits; mvitc
# compiles each (generic target); every variant of one dtype must give the same C file as the
# plain timm one (banner aside), and the generated C must match PyTorch within REL_TOL *
# max|logit| (F16: the reference runs on the F16-rounded weights). With --malicious, pickles
# that would create a marker file if executed must be rejected and the marker must not exist,
# while the same pickles do create it when PyTorch loads them (so the fixtures are live).
# usage: e2e_checkpoint.sh MVITC SOURCE_DIR MODEL.yaml WORK_DIR [--resolution N]
#        [--run LAYOUTS] [--all-variants] [--malicious] [--no-models]
#   --resolution N   compile and run at NxN (weights do not depend on it; keeps XS/S fast)
#   --run LAYOUTS    layouts whose C is built and run, e.g. "timm cvnets" (default: cvnets);
#                    the others are covered by the byte-identical C
#   --no-models      only the malicious checks (with --malicious)
set -euo pipefail
mvitc=$1 src=$2 model=$3 work=$4
shift 4
resolution="" run_layouts="cvnets" all_variants=0 malicious=0 models=1
while [ $# -gt 0 ]; do
    case $1 in
        --resolution) resolution=$2; shift 2 ;;
        --run) run_layouts=$2; shift 2 ;;
        --all-variants) all_variants=1; shift ;;
        --malicious) malicious=1; shift ;;
        --no-models) models=0; shift ;;
        *) echo "e2e_checkpoint.sh: unknown option $1"; exit 2 ;;
    esac
done
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
cd "$work"

desc=$src/$model
make_args=()
if [ -n "$resolution" ]; then
    sed -e "s/^  height: .*/  height: $resolution/" -e "s/^  width: .*/  width: $resolution/" \
        "$desc" > model.yaml
    desc=$PWD/model.yaml
    make_args=(--resolution "$resolution")
fi
variants=timm,cvnets
if [ $all_variants = 1 ]; then
    variants=timm,cvnets,timm_views,cvnets_views,timm_state_dict,cvnets_model_state_dict
    variants=$variants,cvnets_model_module,timm_module
fi

# body FILE: the generated file without its banner (command line, weights path and hash)
body() { tail -n +7 "$1"; }

# expect_reject STATUS NAME PATTERN ARGS...: mvitc ARGS must exit with STATUS (1: bad input,
# 2: bad command line) and PATTERN on stderr, and leave no output
expect_reject() {
    local status=$1 name=$2 pattern=$3
    shift 3
    rm -rf out
    local rc=0
    "$mvitc" compile "$desc" --name net -o out "$@" 2> err.txt > /dev/null || rc=$?
    if [ $rc -ne "$status" ]; then echo "FAIL $name: exit status $rc"; cat err.txt; exit 1; fi
    if ! grep -Eq -- "$pattern" err.txt; then
        echo "FAIL $name: message does not match /$pattern/:"; cat err.txt; exit 1
    fi
    if [ -e out/net.c ] || [ -e out/net.h ] || ls out/.net* > /dev/null 2>&1; then
        echo "FAIL $name: output left behind"; exit 1
    fi
    echo "ok   $name: $(head -1 err.txt)"
}

if [ $models = 1 ]; then
    $py "$src/tools/make_checkpoint.py" "$desc" . --dtype F32,F16 --variants "$variants" \
        "${make_args[@]}"
    for dtype in F32 F16; do
        for v in ${variants//,/ }; do
            "$mvitc" compile "$desc" --weights "$dtype/$v.pt" --name net -o "gen_${dtype}_$v"
            if [ "$v" != timm ]; then
                if ! cmp <(body "gen_${dtype}_timm/net.c") <(body "gen_${dtype}_$v/net.c") ||
                    ! cmp <(body "gen_${dtype}_timm/net.h") <(body "gen_${dtype}_$v/net.h"); then
                    echo "FAIL: $dtype/$v.pt gives other C than $dtype/timm.pt"; exit 1
                fi
            fi
        done
        echo "$dtype: ${variants//,/, }: the same generated C"
        for layout in $run_layouts; do
            clang -std=c11 -O2 -Wall -Wextra -Werror -I"gen_${dtype}_$layout" -I"$src/runtime" \
                "$src/tests/e2e_main.c" "$src/runtime/mvrt_pool.c" "gen_${dtype}_$layout/net.c" \
                -lm -lpthread -o "e2e_${dtype}_$layout"
            echo "--- $dtype $layout.pt"
            "./e2e_${dtype}_$layout" "$dtype/input.f32" "$dtype/logits.f32" 1e-4
        done
    done

    # --weights-layout forces the naming: timm names read as cvnets ones are left alone (and
    # accepted); cvnets names read as timm ones are missing
    "$mvitc" compile "$desc" --weights F32/cvnets.pt --weights-layout cvnets --name net -o forced
    cmp <(body gen_F32_timm/net.c) <(body forced/net.c)
    "$mvitc" compile "$desc" --weights F32/timm.pt --weights-layout timm --name net -o forced
    cmp <(body gen_F32_timm/net.c) <(body forced/net.c)
    echo "--weights-layout cvnets / timm: the same generated C"
    expect_reject 1 forced_timm "F32/cvnets.pt: error: missing tensor 'stem.conv.weight'" \
        --weights F32/cvnets.pt --weights-layout timm
    expect_reject 2 bad_layout "--weights-layout must be auto, timm or cvnets" \
        --weights F32/timm.pt --weights-layout tf
fi

if [ $malicious = 1 ]; then
    marker=$PWD/MARKER
    $py "$src/tools/make_checkpoint.py" --malicious evil --marker "$marker"
    n=0
    refused="pickle offset [0-9]+: (global '.*' is not allowed|opcode INST).*nothing was executed"
    for f in evil/*.pt; do
        expect_reject 1 "$(basename "$f")" "$f: error: .*data\.pkl: $refused" --weights "$f"
        if [ -e "$marker" ]; then
            echo "FAIL: $f: the marker exists: something was executed"; exit 1
        fi
        n=$((n + 1))
    done
    echo "malicious: $n checkpoints rejected, marker $marker absent"
    # the same pickles, with another marker, executed by PyTorch: each must create it
    $py "$src/tools/make_checkpoint.py" --malicious canary --marker canary/CANARY
    $py - <<'PY'
import glob, os, sys, torch
marker = os.path.abspath("canary/CANARY")
for f in sorted(glob.glob("canary/evil_*.pt")):
    try:
        torch.load(f)
    except Exception:
        pass  # the payload ran while unpickling; what follows may fail
    if not os.path.exists(marker):
        sys.exit(f"FAIL: {f}: torch.load did not create the marker: the fixture is not live")
    os.remove(marker)
print("canary: torch.load executes every malicious fixture (so the rejection above matters)")
PY
fi
echo "e2e_checkpoint: all checks passed"
