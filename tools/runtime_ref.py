"""Golden data for runtime/mvrt_image (tests/test_runtime.c): small 8-bit images in every pixel
format, preprocessed by PyTorch the way mvrt_image.h says it matches -- PIL for colour to gray
(Image.convert("L")) and gray to colour, x = uint8 / 255 as a float32 NCHW tensor,
F.interpolate(mode="bilinear", align_corners=False, antialias=False), torchvision's
Resize(int) size rule and CenterCrop offsets (re-implemented here: torchvision is not
installed), then (x - mean) / std. Writes a text file the C test reads token by token.

Regenerate (from the repository root; needs Debian's python3-torch, python3-numpy, python3-pil):

    /usr/bin/python3 tools/runtime_ref.py tests/data/runtime/image_ref.txt
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

BYTES = {"GRAY": 1, "RGB": 3, "BGR": 3, "RGBA": 4, "BGRA": 4}
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

# name, op, source (format, w, h, row padding bytes), output (format, w, h),
# resize: plain -> None, crop -> (crop_pct), mean, std
CASES = [
    ("rgb_upscale", "resize", ("RGB", 7, 5, 3), ("RGB", 11, 9), None, *IMAGENET),
    ("bgr_downscale_to_rgb", "resize", ("BGR", 23, 17, 1), ("RGB", 8, 6), None,
     [0.5, 0.5, 0.5], [0.25, 0.5, 2.0]),
    ("rgb_big_downscale", "resize", ("RGB", 41, 29, 0), ("RGB", 6, 4), None, *IMAGENET),
    ("rgb_mixed_axes_to_bgr", "resize", ("RGB", 5, 13, 2), ("BGR", 9, 4), None, *IMAGENET),
    ("rgba_same_size", "resize", ("RGBA", 6, 4, 0), ("RGB", 6, 4), None, *IMAGENET),
    ("gray_1x1", "resize", ("GRAY", 1, 1, 0), ("GRAY", 3, 2), None, [0.2], [0.7]),
    ("rgb_to_1x1", "resize", ("RGB", 9, 7, 0), ("RGB", 1, 1), None, *IMAGENET),
    ("gray_to_rgb", "resize", ("GRAY", 9, 9, 7), ("RGB", 12, 12), None, *IMAGENET),
    ("rgb_to_gray_luma", "resize", ("RGB", 10, 8, 0), ("GRAY", 5, 4), None, [0.286], [0.353]),
    ("bgra_to_gray_luma", "resize", ("BGRA", 6, 6, 4), ("GRAY", 9, 7), None, [0.5], [0.5]),
    ("gray_fmnist_28_to_40", "resize", ("GRAY", 28, 28, 0), ("GRAY", 40, 40), None,
     [0.286], [0.353]),
    # timm eval: crop 8, crop_pct 0.85 -> short side 9; 20x15 -> 12x9; x = round(2.0),
    # y = round(0.5) = 0 (half to even)
    ("rgba_crop_landscape", "crop", ("RGBA", 20, 15, 0), ("RGB", 8, 8), 0.85, *IMAGENET),
    # portrait, non-square crop: 15x23 -> 13x19, crop 11x12 at x = 1, y = round(3.5) = 4
    ("bgra_crop_portrait_to_bgr", "crop", ("BGRA", 15, 23, 8), ("BGR", 11, 12), 0.875,
     *IMAGENET),
    # 25x20 -> 15x12, crop 10x10 at x = round(2.5) = 2, y = 1
    ("bgr_crop_round_half_even", "crop", ("BGR", 25, 20, 5), ("RGB", 10, 10), 0.8, *IMAGENET),
    # upscaling crop: 6x5 -> short side 12 -> 14x12, crop 9x9 at x = round(2.5) = 2,
    # y = round(1.5) = 2
    ("rgb_crop_upscale", "crop", ("RGB", 6, 5, 0), ("RGB", 9, 9), 0.75, *IMAGENET),
    ("gray_crop_to_rgb", "crop", ("GRAY", 30, 19, 2), ("RGB", 8, 8), 0.875, *IMAGENET),
]


def resized_size(w, h, size):
    """torchvision.transforms.functional._compute_resized_output_size for an int size."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def center_crop_offset(w, h, cw, ch):
    """torchvision.transforms.functional.center_crop (Python round: halves to even)."""
    return int(round((w - cw) / 2.0)), int(round((h - ch) / 2.0))


def to_output_channels(px, src_fmt, dst_fmt):
    """uint8 [H, W, bytes] in src_fmt -> uint8 [H, W, C] in dst_fmt, by PIL where it converts."""
    if src_fmt == "GRAY":
        gray = px[:, :, 0]
        if dst_fmt == "GRAY":
            return gray[:, :, None]
        return np.asarray(Image.fromarray(gray, "L").convert("RGB"))  # replicated
    rgb = px[:, :, :3] if src_fmt.startswith("RGB") else px[:, :, 2::-1]
    rgb = np.ascontiguousarray(rgb)
    if dst_fmt == "GRAY":
        return np.asarray(Image.fromarray(rgb, "RGB").convert("L"))[:, :, None]
    return rgb if dst_fmt == "RGB" else np.ascontiguousarray(rgb[:, :, ::-1])


def run_case(rng, case):
    name, op, (sfmt, sw, sh, pad), (dfmt, dw, dh), crop_pct, mean, std = case
    stride = sw * BYTES[sfmt] + pad
    buf = rng.integers(0, 256, size=sh * stride, dtype=np.uint8)
    px = buf.reshape(sh, stride)[:, :sw * BYTES[sfmt]].reshape(sh, sw, BYTES[sfmt])
    chans = to_output_channels(px, sfmt, dfmt)
    x = torch.from_numpy(chans.astype(np.float32)).permute(2, 0, 1)[None].contiguous() / 255
    if op == "resize":
        short, (rw, rh), (cx, cy) = 0, (dw, dh), (0, 0)
    else:
        short = math.floor(dh / crop_pct)  # timm: scale_size = floor(img_size / crop_pct)
        rw, rh = resized_size(sw, sh, short)
        cx, cy = center_crop_offset(rw, rh, dw, dh)
    y = F.interpolate(x, size=(rh, rw), mode="bilinear", align_corners=False, antialias=False)
    y = y[:, :, cy:cy + dh, cx:cx + dw]
    m = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    s = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    out = ((y - m) / s)[0].permute(1, 2, 0).contiguous().numpy().ravel()
    lines = [f"case {name} {op} {sfmt} {sw} {sh} {stride} {dfmt} {dw} {dh}",
             f"crop_pct {crop_pct or 0!r} resize_short {short} geometry {rw} {rh} {cx} {cy}",
             "mean " + " ".join(repr(float(np.float32(v))) for v in mean),
             "std " + " ".join(repr(float(np.float32(v))) for v in std),
             f"pixels {buf.size}"]
    lines += [" ".join(str(v) for v in buf[i:i + 32]) for i in range(0, buf.size, 32)]
    lines.append(f"expect {out.size}")
    # %.9g round-trips every float32
    lines += [" ".join("%.9g" % v for v in out[i:i + 8]) for i in range(0, out.size, 8)]
    return lines


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/runtime/image_ref.txt"
    torch.set_num_threads(1)
    rng = np.random.default_rng(20240611)
    lines = [f"# Generated by tools/runtime_ref.py (torch {torch.__version__}). Do not edit.",
             f"cases {len(CASES)}"]
    for case in CASES:
        lines += run_case(rng, case)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(CASES)} cases -> {out}")


if __name__ == "__main__":
    main()
