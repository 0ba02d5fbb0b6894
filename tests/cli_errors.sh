#!/bin/bash
# mvitc on bad input: every case must exit non-zero, print one message naming the file (and
# for YAML the line:column), and leave no output file behind. Run with an ASan build too.
# usage: cli_errors.sh MVITC SOURCE_DIR WORK_DIR
set -uo pipefail
mvitc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0 passed=0

# expect_failure NAME PATTERN LEFTOVERS ARGS...: mvitc ARGS must fail with PATTERN (grep -E)
# on stderr, leave nothing matching the globs in LEFTOVERS, and report no sanitizer error
expect_failure() {
    local name=$1 pattern=$2 leftovers=$3 g
    shift 3
    rm -rf out rep
    "$mvitc" "$@" 2> err.txt >/dev/null
    local rc=$?
    if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
        echo "FAIL $name: exit status $rc"; failures=$((failures + 1)); return
    fi
    if ! grep -Eq -- "$pattern" err.txt; then
        echo "FAIL $name: message does not match /$pattern/:"; cat err.txt
        failures=$((failures + 1)); return
    fi
    for g in $leftovers; do
        if compgen -G "$g" >/dev/null; then
            echo "FAIL $name: output left behind ($g)"; failures=$((failures + 1)); return
        fi
    done
    if grep -q "Sanitizer" err.txt; then
        echo "FAIL $name: sanitizer report"; cat err.txt; failures=$((failures + 1)); return
    fi
    echo "ok   $name: $(head -1 err.txt)"
    passed=$((passed + 1))
}
# expect_error NAME PATTERN ARGS...: mvitc compile ARGS fails, no DIR/NAME.* written
expect_error() {
    expect_failure "$1" "$2" "out/net.c out/net.h out/.net*" compile --name net -o out "${@:3}"
}

m=$src/models/mobilevit_xxs_128.yaml
/usr/bin/python3 "$src/tools/make_golden.py" "$m" good > /dev/null || exit 1
w=good/weights.safetensors
/usr/bin/python3 "$src/tools/make_golden.py" "$src/models/mobilevit_xs.yaml" xs --resolution 64 > /dev/null || exit 1

# weights files derived from a valid one by PyTorch-side edits (drop, rename, reshape)
/usr/bin/python3 - "$src/tools" "$w" <<'PY' || exit 1
import sys
sys.path.insert(0, sys.argv[1])
import torch, mobilevit_ref as ref
t = ref.load_safetensors(sys.argv[2])
def save(name, d): ref.save_safetensors(d, name)
d = dict(t); del d["stages.2.1.transformer.1.mlp.fc2.bias"]; save("missing.safetensors", d)
d = dict(t); d["stages.9.0.extra.weight"] = torch.zeros(3); save("extra.safetensors", d)
d = dict(t); d["stem.conv.weight"] = torch.zeros(16, 1, 3, 3); save("shape.safetensors", d)
d = dict(t); d["head.fc.bias"] = torch.zeros(1000, dtype=torch.int64); save("dtype.safetensors", d)
PY
head -c 100000 "$w" > truncated.safetensors
printf '\xff\xff\xff\x00\x00\x00\x00\x00{}' > headerlen.safetensors
cp "$w" hdrjunk.safetensors && printf 'X' | dd of=hdrjunk.safetensors bs=1 seek=8 conv=notrunc 2>/dev/null

# YAML mistakes, each derived from the valid description with one edit
edit() { sed -e "$2" "$m" > "$1.yaml"; }
edit tab 's/^  height: 128/\theight: 128/'
edit stride 's/{type: inverted_residual, out_channels: 24, stride: 2/{type: inverted_residual, out_channels: 24, stride: 3/'
edit typo 's/^  width: 128/  widht: 128/'
edit nonint 's/out_channels: 320/out_channels: many/'
edit heads 's/heads: 4/heads: 3/'
edit format 's|^format: .*|format: something-else|'
edit small 's/^  height: 128/  height: 31/'
edit blocktype 's/type: mobilevit$/type: mobilevit2/'
edit negative 's/num_classes: 1000/num_classes: -5/'
edit meanlen 's/mean: \[0.0, 0.0, 0.0\]/mean: [0.0, 0.0]/'
edit unclosed 's/patch_size: \[2, 2\]/patch_size: [2, 2/'
edit float 's/depth: 3/depth: 2.5/'
printf 'just a string\n' > scalar.yaml

expect_error yaml-tab              'tab\.yaml:[0-9]+:[0-9]+: error' tab.yaml --weights "$w"
expect_error yaml-stride           'stride\.yaml:2[0-9]:[0-9]+: error: .*stride'  stride.yaml --weights "$w"
expect_error yaml-unknown-key      'typo\.yaml:[0-9]+:[0-9]+: error: .*widht' typo.yaml --weights "$w"
expect_error yaml-not-integer      'nonint\.yaml:[0-9]+:[0-9]+: error: .*out_channels' nonint.yaml --weights "$w"
expect_error yaml-heads            'heads\.yaml:[0-9]+:[0-9]+: error: .*(heads|divisible)' heads.yaml --weights "$w"
expect_error yaml-format           'format\.yaml:3:[0-9]+: error' format.yaml --weights "$w"
expect_error yaml-small-input      "small\\.yaml:[0-9]+:[0-9]+: error: 'height' must be between 32 and 4096, got 31" small.yaml --weights "$w"
expect_error yaml-block-type       'blocktype\.yaml:[0-9]+:[0-9]+: error: .*mobilevit2' blocktype.yaml --weights "$w"
expect_error yaml-negative         'negative\.yaml:[0-9]+:[0-9]+: error: .*num_classes' negative.yaml --weights "$w"
expect_error yaml-mean-length      'meanlen\.yaml:[0-9]+:[0-9]+: error: .*mean' meanlen.yaml --weights "$w"
expect_error yaml-syntax           'unclosed\.yaml:[0-9]+:[0-9]+: error' unclosed.yaml --weights "$w"
expect_error yaml-float-depth      'float\.yaml:[0-9]+:[0-9]+: error: .*depth' float.yaml --weights "$w"
expect_error yaml-scalar-document  'scalar\.yaml:1:1: error' scalar.yaml --weights "$w"
expect_error yaml-missing-file     'nonexistent\.yaml' nonexistent.yaml --weights "$w"

expect_error weights-missing-tensor "missing\.safetensors: error: missing tensor 'stages\.2\.1\.transformer\.1\.mlp\.fc2\.bias'" "$m" --weights missing.safetensors
expect_error weights-extra-tensor   "extra\.safetensors: error: unexpected tensor 'stages\.9\.0\.extra\.weight'" "$m" --weights extra.safetensors
expect_error weights-wrong-shape    "shape\.safetensors: error: tensor 'stem\.conv\.weight' has F32 shape \[16, 1, 3, 3\], expected .*\[16, 3, 3, 3\]" "$m" --weights shape.safetensors
expect_error weights-wrong-dtype    "dtype\.safetensors: error: tensor 'head\.fc\.bias'" "$m" --weights dtype.safetensors
expect_error weights-truncated      'truncated\.safetensors: error' "$m" --weights truncated.safetensors
expect_error weights-header-length  'headerlen\.safetensors: error' "$m" --weights headerlen.safetensors
expect_error weights-header-junk    'hdrjunk\.safetensors: error' "$m" --weights hdrjunk.safetensors
expect_error weights-other-model    "xs/weights\.safetensors: error: tensor 'stages\.0\.0\.conv1_1x1\.conv\.weight' has F32 shape" "$m" --weights xs/weights.safetensors
expect_error weights-missing-file   'nothere\.safetensors' "$m" --weights nothere.safetensors
expect_error bad-name               "not a C identifier" "$m" --weights "$w" --name 9lives
expect_error bad-target             "unknown target 'vax'" "$m" --weights "$w" --target vax

# --precision int8: bad calibration input (the model is 128x128x3: 196,608 bytes per image)
mkdir -p emptydir pngdir
printf 'not a png' > pngdir/a.png
head -c 1000 /dev/zero > short.f32
head -c 196608 /dev/zero > zero.f32
head -c 196608 /dev/zero | tr '\0' '\377' > nan.f32
printf '\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x1c' > trunc-idx3-ubyte
expect_error int8-no-calib          "needs --calib" "$m" --weights "$w" --precision int8
expect_error int8-empty-dir         "emptydir.*(no|PNG)" "$m" --weights "$w" --precision int8 --calib emptydir
expect_error int8-bad-png           "pngdir/a\.png" "$m" --weights "$w" --precision int8 --calib pngdir
expect_error int8-f32-wrong-size    "short\.f32: error" "$m" --weights "$w" --precision int8 --calib short.f32
expect_error int8-f32-not-finite    "nan\.f32: error" "$m" --weights "$w" --precision int8 --calib nan.f32
expect_error int8-idx-truncated     "trunc-idx3-ubyte: error" "$m" --weights "$w" --precision int8 --calib trunc-idx3-ubyte
expect_error int8-calib-missing     "nothere\.f32" "$m" --weights "$w" --precision int8 --calib nothere.f32
expect_error int8-bad-method        "unknown --calib-method 'best'" "$m" --weights "$w" --precision int8 --calib short.f32 --calib-method best
expect_error int8-keep-unknown      "no layer named 'stages\.9\.conv'" "$m" --weights "$w" --precision int8 --calib zero.f32 --keep-fp32 stem,stages.9.conv
expect_error bad-precision          "unknown precision 'fp8'" "$m" --weights "$w" --precision fp8
# --resolution: sizes below 32, non-integer or malformed entries, repeats, int8 with several
expect_error res-too-small          "--resolution: '16' is not a size" "$m" --weights "$w" --resolution 64,16
expect_error res-too-small-side     "--resolution: '64x31' is not a size" "$m" --weights "$w" --resolution 64x31
expect_error res-non-integer        "--resolution: '96.5x128' is not a size" "$m" --weights "$w" --resolution 96.5x128
expect_error res-no-width           "--resolution: '96x' is not a size" "$m" --weights "$w" --resolution 96x
expect_error res-malformed          "--resolution: empty entry" "$m" --weights "$w" --resolution 64,,128
expect_error res-zero               "--resolution: '0' is not a size" "$m" --weights "$w" --resolution 0
expect_error res-repeated           "'64x64' lists 64x64 a second time" "$m" --weights "$w" --resolution 64,128,64x64
expect_error res-int8               "--precision int8 takes one --resolution" "$m" --weights "$w" --resolution 64,96 --precision int8 --calib zero.f32

# mvitc calibrate and --ranges FILE: bad options, and ranges files that are hostile, truncated
# or for another model or size: a message with FILE:LINE, no output
/usr/bin/python3 -c "import numpy as np
np.random.default_rng(1).standard_normal(2 * 196608 // 4).astype(np.float32).tofile('noise.f32')"
MALLOC_PERTURB_=1 "$mvitc" calibrate "$m" --weights "$w" --calib noise.f32 -o good.ranges 2> /dev/null ||
    { echo "FAIL: mvitc calibrate on noise.f32"; exit 1; }
# the same file whatever malloc leaves in fresh memory (glibc fills it with the byte given): no
# range read from a buffer the evaluation never wrote
MALLOC_PERTURB_=254 "$mvitc" calibrate "$m" --weights "$w" --calib noise.f32 -o again.ranges 2> /dev/null
if cmp <(grep -v '^# made by' good.ranges) <(grep -v '^# made by' again.ranges); then
    echo "ok   calib-deterministic"; passed=$((passed + 1))
else
    echo "FAIL calib-deterministic: the ranges depend on malloc's fill"; failures=$((failures + 1))
fi
# the same weights with the last byte changed: same shapes, another hash
cp "$w" other.safetensors && printf 'Q' | dd of=other.safetensors bs=1 seek=$(($(stat -c %s "$w") - 1)) conv=notrunc 2> /dev/null
expect_calib_error() { # NAME PATTERN ARGS...: calibrate fails and writes no out.ranges
    expect_failure "$1" "$2" "out.ranges out.ranges.*" calibrate -o out.ranges "${@:3}"
}
expect_calib_error calib-no-data     "calibrate needs --calib" "$m" --weights "$w"
expect_calib_error calib-target      "calibrate takes no --target" "$m" --weights "$w" --calib zero.f32 --target avx2
expect_calib_error calib-bad-data    "short\.f32: error" "$m" --weights "$w" --calib short.f32
expect_calib_error calib-two-sizes   "takes one --resolution" "$m" --weights "$w" --calib zero.f32 --resolution 64,96
expect_failure calib-no-dir "nodir/x\.ranges: error: cannot create" "nodir" calibrate -o nodir/x.ranges "$m" --weights "$w" --calib zero.f32
# mutate NAME PYTHON-EXPRESSION: NAME.ranges = the lines of good.ranges (list L) after the edit
mutate() {
    /usr/bin/python3 -c "import sys
L = open('good.ranges').read().split('\n')
$2
open('$1.ranges', 'w').write('\n'.join(L))" || exit 1
}
first=$(grep -n '^0 input' good.ranges | cut -d: -f1)   # line of value 0
i=$((first - 1))                                         # its index in L
mutate trunc     "L = L[:$i + 6]"
mutate version   "L = [l.replace('mvitc-ranges 1', 'mvitc-ranges 7') for l in L]"
mutate hash      "L = [('model 0123456789abcdef' if l.startswith('model ') else l) for l in L]"
mutate name      "L[$i] = L[$i].replace('input', 'image')"
mutate nan       "f = L[$i + 2].split(); f[3] = 'nan'; L[$i + 2] = ' '.join(f)"
mutate positive  "f = L[$i + 2].split(); f[3] = '0.5'; L[$i + 2] = ' '.join(f)"
mutate huge      "f = L[$i + 2].split(); f[4] = '1e300'; L[$i + 2] = ' '.join(f)"
mutate fields    "L[$i + 1] += ' 7'"
mutate extra     "L.append('9999 extra 1x1x1 -1 1')"
mutate longline  "L[$i + 1] += ' ' * 600"
mutate count     "L = [('values 3' if l.startswith('values ') else l) for l in L]"
mutate order     "L[$i + 1], L[$i + 2] = L[$i + 2], L[$i + 1]"
head -c 3000 /dev/urandom > random.ranges
printf 'mvitc-ranges 1\nmodel \0abc\n' > nul.ranges
: > empty.ranges
r() { echo --precision int8 --ranges "$1"; }
# shellcheck disable=SC2046
{
expect_error ranges-missing   "nothere\.ranges: error: cannot open" "$m" --weights "$w" $(r nothere.ranges)
expect_error ranges-empty     "empty\.ranges:[0-9]+: error: the file ends before its 'mvitc-ranges' line" "$m" --weights "$w" $(r empty.ranges)
expect_error ranges-random    "random\.ranges:[0-9]+: error" "$m" --weights "$w" $(r random.ranges)
expect_error ranges-nul       "nul\.ranges:2: error: NUL byte" "$m" --weights "$w" $(r nul.ranges)
expect_error ranges-truncated "trunc\.ranges:[0-9]+: error: the file ends before value 6 of" "$m" --weights "$w" $(r trunc.ranges)
expect_error ranges-version   "version\.ranges:[0-9]+: error: format version '7'" "$m" --weights "$w" $(r version.ranges)
expect_error ranges-hash      "hash\.ranges:[0-9]+: error: calibrated for another description or weights" "$m" --weights "$w" $(r hash.ranges)
expect_error ranges-other-weights "good\.ranges:[0-9]+: error: calibrated for another" "$m" --weights other.safetensors $(r good.ranges)
expect_error ranges-size      "good\.ranges:[0-9]+: error: calibrated at 128x128, this build is 96x96" "$m" --weights "$w" --resolution 96 $(r good.ranges)
expect_error ranges-name      "name\.ranges:$first: error: value 0 is 'image'" "$m" --weights "$w" $(r name.ranges)
expect_error ranges-nan       "nan\.ranges:$((first + 2)): error: value 2 .*not two finite numbers" "$m" --weights "$w" $(r nan.ranges)
expect_error ranges-positive  "positive\.ranges:$((first + 2)): error: value 2 .*must hold 0" "$m" --weights "$w" $(r positive.ranges)
expect_error ranges-huge      "huge\.ranges:$((first + 2)): error: value 2 .*float's range" "$m" --weights "$w" $(r huge.ranges)
expect_error ranges-fields    "fields\.ranges:$((first + 1)): error: expected 'ID NAME HxWxC LO HI'" "$m" --weights "$w" $(r fields.ranges)
expect_error ranges-extra     "extra\.ranges:[0-9]+: error: unexpected line after the last value" "$m" --weights "$w" $(r extra.ranges)
expect_error ranges-long-line "longline\.ranges:$((first + 1)): error: line longer than" "$m" --weights "$w" $(r longline.ranges)
expect_error ranges-count     "count\.ranges:[0-9]+: error: 3 values, this model's graph has" "$m" --weights "$w" $(r count.ranges)
expect_error ranges-order     "order\.ranges:$((first + 1)): error: expected value 1, found '2'" "$m" --weights "$w" $(r order.ranges)
expect_error ranges-fp32      "--ranges FILE replaces calibration: it takes --precision int8" "$m" --weights "$w" --ranges good.ranges
expect_error ranges-and-calib "--ranges FILE replaces calibration" "$m" --weights "$w" $(r good.ranges) --calib zero.f32
expect_error ranges-keep-auto "--ranges FILE replaces calibration" "$m" --weights "$w" $(r good.ranges) --keep-fp32 auto
}

# and the good file builds what calibrating in the same process builds (all but the banner's
# command line byte-identical)
if "$mvitc" compile "$m" --weights "$w" $(r good.ranges) -o from_file 2> /dev/null &&
   "$mvitc" compile "$m" --weights "$w" --precision int8 --calib noise.f32 -o in_process 2> /dev/null &&
   cmp <(grep -v '^ \* command:' from_file/*.c) <(grep -v '^ \* command:' in_process/*.c) &&
   cmp <(grep -v '^ \* command:' from_file/*.h) <(grep -v '^ \* command:' in_process/*.h); then
    echo "ok   ranges-same-bytes"; passed=$((passed + 1))
else
    echo "FAIL ranges-same-bytes: --ranges and --calib builds differ"; failures=$((failures + 1))
fi

# mvitc report: bad options and bad input fail before any build, and write no report
expect_report_error() {
    expect_failure "$1" "$2" "rep/report.* rep/.report*" report -o rep "${@:3}"
}
expect_report_error report-bad-target    "unknown target 'vax'" "$m" --weights "$w" --targets generic,vax
expect_report_error report-bad-precision "unknown precision 'fp8'" "$m" --weights "$w" --precision fp8
expect_report_error report-int8-no-calib "int8 needs --calib" "$m" --weights "$w" --precision fp32,int8
expect_report_error report-bad-core      "unknown core 'pentium'" "$m" --weights "$w" --cores haswell,pentium
expect_report_error report-bad-runs      "--runs must be a positive integer" "$m" --weights "$w" --runs 0
expect_report_error report-bad-resolution "--resolution: '192x16' is not a size" "$m" --weights "$w" --resolution 128,192x16
expect_report_error report-repeated-resolution "'128x128' lists 128x128 a second time" "$m" --weights "$w" --resolution 128,128x128
expect_report_error report-bad-yaml      "stride\.yaml:[0-9]+:[0-9]+: error" stride.yaml --weights "$w" --targets generic
expect_report_error report-missing-tensor "missing\.safetensors: error: missing tensor" "$m" --weights missing.safetensors --targets generic

echo "$passed passed, $failures failed"
[ $failures -eq 0 ]
