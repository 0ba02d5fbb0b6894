#!/bin/bash
# INT8 builds are bit-identical on every target (docs/int8.md): one model is calibrated once
# (mvitc calibrate) and compiled with --precision int8 --ranges for every target of the
# registry; each
# build of `mvitc targets --builds` that runs here (today: generic and avx2 on the host, avx2
# also with -mavxvnni where the CPU has AVX-VNNI, neon for AArch64 with and without the ARMv8.2
# dot product and ARMv7 under qemu-user when the cross tools exist) runs on the same inputs,
# and the logits files must be identical bytes. Also checked: the int8 file is deterministic (two compilations
# from two directories), freestanding (no undefined symbols), P_run_u8 equals P_run on the same
# pixels, and the logits are printed against PyTorch's float ones.
# usage: int8_identity.sh MVITC SOURCE_DIR WORK_DIR fmnist N
#        int8_identity.sh MVITC SOURCE_DIR WORK_DIR MODEL.yaml N [SIZE]
#   fmnist: the shipped model, calibrated on 200 training images, run on N test images;
#           top-1 must agree with PyTorch's on >= 97 % of them. P_run_u8 runs on the first 32
#           (the 8-bit front end is the same code for every image).
#   MODEL.yaml: random timm-named weights (tools/make_golden.py), calibrated and run on N
#           random normal images; at SIZE (R or HxW) instead of the description's input size
#           when given (the description copied with that input height and width).
set -euo pipefail
mvitc=$1 src=$2 work=$3 what=$4 n=$5 size=${6:-}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
data=/usr/share/datasets/fashion-mnist

if [ "$what" = fmnist ]; then
    model=$src/models/fmnist_xxs.yaml weights=$src/models/fmnist_xxs.safetensors
    calib=$data/train-images-idx3-ubyte.gz
    calib_flags="--calib-images 200"
    /usr/bin/python3 "$src/tools/fmnist_inputs.py" "$model" "$n" inputs.f32 "$weights" torch.f32
    /usr/bin/python3 - "$data/t10k-images-idx3-ubyte.gz" "$n" "$model" <<'PY'
import gzip, sys, yaml, numpy as np
n = int(sys.argv[2])
d = yaml.safe_load(open(sys.argv[3]))["input"]
n = min(n, 32)
raw = np.frombuffer(gzip.open(sys.argv[1]).read()[16:16 + n * 784], np.uint8).reshape(n, 28, 28)
# nearest-neighbour up to the model's size: 8-bit camera-style input for P_run_u8
ys, xs = np.arange(d["height"]) * 28 // d["height"], np.arange(d["width"]) * 28 // d["width"]
raw[:, ys][:, :, xs].tofile("pixels.u8")
PY
else
    model=$src/$what
    if [ -n "$size" ]; then
        h=${size%x*} w=${size#*x}
        sed -E "s/^(  height:) [0-9]+\$/\1 $h/; s/^(  width:) [0-9]+\$/\1 $w/" "$model" > model.yaml
        grep -q "^  height: $h\$" model.yaml && grep -q "^  width: $w\$" model.yaml
        model=$PWD/model.yaml
    fi
    /usr/bin/python3 "$src/tools/make_golden.py" "$model" golden
    weights=$PWD/golden/weights.safetensors
    /usr/bin/python3 - "$model" "$n" <<'PY'
import sys, yaml, numpy as np
d = yaml.safe_load(open(sys.argv[1]))["input"]
n = int(sys.argv[2])
rng = np.random.default_rng(7)
shape = (n, d["height"], d["width"], d["channels"])
rng.standard_normal(shape).astype(np.float32).tofile("inputs.f32")
rng.integers(0, 256, shape, dtype=np.uint8).tofile("pixels.u8")
PY
    calib=$PWD/inputs.f32 calib_flags=""
fi

# shellcheck disable=SC2086
"$mvitc" calibrate "$model" --weights "$weights" --calib "$calib" $calib_flags -o net.ranges \
    2> calib.log || { cat calib.log; exit 1; }
ranges=$PWD/net.ranges
compile() { # TARGET DIR
    "$mvitc" compile "$model" --weights "$weights" --precision int8 --ranges "$ranges" \
        --target "$1" --name net -o "$2" 2> "$2.log" || { cat "$2.log"; exit 1; }
}
# every target of the registry (mvitc targets); the runs below pick the ones this host runs
for t in $("$mvitc" targets --tsv | cut -f1); do compile "$t" "gen_$t"; done
mkdir again && (cd again && compile generic gen_generic)
cmp gen_generic/net.c again/gen_generic/net.c && cmp gen_generic/net.h again/gen_generic/net.h
echo "deterministic: yes"
tail -1 gen_generic.log

expect_freestanding() { # OBJ WHAT
    local undefined
    undefined=$(nm -u "$1" 2>/dev/null || llvm-nm -u "$1")
    [ -z "$undefined" ] || { echo "FAIL: $2 object has undefined symbols: $undefined"; exit 1; }
}
build() { # CC OUT GEN [flags...]: e2e_main with the generated file
    local cc=$1 out=$2 gen=$3 san=() obj
    shift 3
    $cc "$@" -std=c99 -O2 -ffreestanding -Wall -Wextra -Werror -c "$gen/net.c" -o "$out.o"
    expect_freestanding "$out.o" "$out"
    obj=$out.o
    if [ -n "${E2E_SANITIZE:-}" ]; then # sanitizer builds: the generated code runs instrumented
        case $cc in
        *-linux-gnu*) # cross: UBSan in trap mode, no runtime library needed under qemu
            $cc "$@" -std=c99 -O2 -fsanitize=undefined -fsanitize-undefined-trap-on-error \
                -c "$gen/net.c" -o "$out.ubsan.o"
            obj=$out.ubsan.o ;;
        *) read -ra san <<< "$E2E_SANITIZE"; obj=$gen/net.c ;;
        esac
    fi
    $cc "$@" "${san[@]}" -std=c11 -O1 -Wall -Wextra -Werror -I"$gen" -I"$src/runtime" \
        "$src/tests/e2e_main.c" "$src/runtime/mvrt_pool.c" "$obj" -lm -lpthread -o "$out"
}
# every way the registry builds each target (mvitc targets --builds) that runs here
runs=()
declare -A emulator
while IFS=$'\t' read -r target name cc cflags cpu emu; do
    if [ "$cflags" = - ]; then cflags=""; fi
    if [ "$cpu" = - ]; then cpu=""; fi
    if [ "$emu" = - ]; then emu=""; fi
    if ! command -v "$cc" > /dev/null || { [ -n "$emu" ] && ! command -v "$emu" > /dev/null; }; then
        echo "skipped: $name (no $cc${emu:+ or $emu})"; continue
    fi
    missing=""
    for f in $cpu; do grep -qw "$f" /proc/cpuinfo || missing="$missing $f"; done
    if [ -n "$missing" ]; then
        echo "skipped: $name (this CPU has no$missing)"; continue
    fi
    # shellcheck disable=SC2086
    build "$cc" "run_$name" "gen_$target" $cflags
    runs+=("$name")
    emulator[$name]=$emu
done < <("$mvitc" targets --builds)
for r in "${runs[@]}"; do
    q=${emulator[$r]}
    $q ./run_$r --preds inputs.f32 $r.u8 $r.f32 > /dev/null
    $q ./run_$r --pixels pixels.u8 $r.pixels.f32
done
fail=0
for r in "${runs[@]}"; do
    for kind in f32 pixels.f32; do
        if cmp -s generic.$kind $r.$kind; then
            echo "ok   $r: logits ($kind) byte-identical to generic: $(sha256sum < $r.$kind | cut -c1-16)"
        else
            echo "FAIL $r: logits ($kind) differ from generic"; fail=1
        fi
    done
done
/usr/bin/python3 - "$what" "$n" <<'PY' || fail=1
import sys, numpy as np
what, n = sys.argv[1], int(sys.argv[2])
got = np.fromfile("generic.f32", dtype=np.float32).reshape(n, -1)
if what != "fmnist":
    print(f"int8 logits, first image: {np.round(got[0][:5], 3)} ...")
    sys.exit(0)
ref = np.fromfile("torch.f32", dtype=np.float32).reshape(n, -1)
same = int((got.argmax(1) == ref.argmax(1)).sum())
rel = (np.abs(got - ref).max(axis=1) / np.abs(ref).max(axis=1))
ok = same >= 0.97 * n
print(f"{'ok  ' if ok else 'FAIL'} int8 top-1 equals PyTorch fp32 on {same}/{n} images (need 97 %); "
      f"logits max|diff| / max|logit|: median {np.median(rel):.3f}, worst {rel.max():.3f}")
sys.exit(0 if ok else 1)
PY
exit $fail
