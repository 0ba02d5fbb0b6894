#!/bin/bash
# examples/classify on a shipped model: (1) accuracy on a fixed 2,000-image subset of the
# Fashion-MNIST test set within 0.05 points of PyTorch's on the same images, with >= 99.9 %
# identical top-1 predictions; (2) PNG input; (3) corrupt or mismatched inputs fail cleanly.
# usage: classify.sh CLASSIFY SOURCE_DIR WORK_DIR [MODEL]   (MODEL: fmnist_xxs, fmnist_v2_050)
set -uo pipefail
classify=$1 src=$2 work=$3 model=${4:-fmnist_xxs}
data=/usr/share/datasets/fashion-mnist
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0 passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

"$classify" --eval $data/t10k-images-idx3-ubyte.gz $data/t10k-labels-idx1-ubyte.gz --limit 2000 \
    --compare "$src/models/$model.test_preds.u8" --min-agreement 99.9 --max-delta 0.05 \
    | tee eval.txt
[ "${PIPESTATUS[0]}" -eq 0 ] && ok "accuracy and agreement on 2000 test images" \
    || bad "accuracy/agreement thresholds"

# PNG input: three test images; each must print a top-3 whose first class is PyTorch's
pngs=$(/usr/bin/python3 "$src/tools/idx_to_png.py" png 0 1 2)
for p in $pngs; do
    idx=$((10#$(basename "$p" | cut -c1-5)))
    want=$(od -An -tu1 -j "$idx" -N1 "$src/models/$model.test_preds.u8" | tr -d ' ')
    names=("T-shirt/top" "Trouser" "Pullover" "Dress" "Coat" "Sandal" "Shirt" "Sneaker" "Bag" "Ankle boot")
    if "$classify" "$p" > out.txt && grep -q "1. ${names[$want]} " out.txt; then
        ok "png $(basename "$p") -> ${names[$want]}"
    else
        bad "png $(basename "$p"): expected ${names[$want]}"; cat out.txt
    fi
done

# expect_error NAME PATTERN ARGS...
expect_error() {
    local name=$1 pattern=$2
    shift 2
    "$classify" "$@" > /dev/null 2> err.txt
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -Eq -- "$pattern" err.txt; then
        ok "$name: $(head -1 err.txt)"
    else
        bad "$name (exit $rc)"; cat err.txt
    fi
}
zcat $data/t10k-images-idx3-ubyte.gz > images.idx
zcat $data/t10k-labels-idx1-ubyte.gz > labels.idx
head -c 100000 images.idx > truncated.idx
{ printf '\x00\x00\x08\x04'; tail -c +5 images.idx; } > badmagic.idx
{ printf '\x00\x00\x08\x03\x00\x00\x00\x64\x00\x00\x00\x1c\x00\x00\x00\x1c'; tail -c +17 images.idx | head -c 78400; } > hundred.idx
{ cat images.idx; printf 'x'; } > trailing.idx
head -c 3000 $data/t10k-images-idx3-ubyte.gz > truncated.gz
/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$src/tools')
from idx_to_png import write_png
write_png('big.png', 32, 32, bytes(range(256)) * 4)
open('notpng.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + bytes(100))
"
L=labels.idx
expect_error idx-wrong-magic     'badmagic\.idx: not an IDX image file \(magic 0x00000804' --eval badmagic.idx $L
expect_error idx-truncated       'truncated\.idx: header says 10000 items.*truncated' --eval truncated.idx $L
expect_error idx-trailing-bytes  'trailing\.idx: .*trailing bytes' --eval trailing.idx $L
expect_error idx-gzip-truncated  'truncated\.gz: ' --eval truncated.gz $L
expect_error idx-count-mismatch  'hundred\.idx has 100 images but labels\.idx has 10000 labels' --eval hundred.idx $L
expect_error idx-labels-as-images 'labels\.idx: not an IDX image file' --eval labels.idx $L
expect_error idx-missing-file    'nothere\.idx: cannot open' --eval nothere.idx $L
expect_error png-wrong-size      'big\.png: image is 32x32, expected a 28x28' big.png
expect_error png-corrupt         'notpng\.png: cannot (read|decode) PNG' notpng.png
expect_error compare-wrong-size  'hundred\.idx holds more than 10000 predictions, expected 10000' --eval images.idx $L --compare hundred.idx

echo "$passed passed, $failures failed"
[ $failures -eq 0 ]
