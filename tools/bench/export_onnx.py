"""Exports the PyTorch reference (tools/mobilevit_ref.py) to ONNX for the ORT side of the benchmark.

Same description, same safetensors weights and same input size as the C side; the graph is traced
for one fixed NCHW float32 input [1, C, H, W]. Also writes the golden NHWC input transposed to
NCHW, so ort_bench.mjs feeds ORT exactly the image net_run gets, and prints the model's MACs
counted on the reference, which bench.py checks against mvitc's header banner.

    /usr/bin/python3 tools/bench/export_onnx.py MODEL.yaml WEIGHTS OUT.onnx \
        [--resolution N] [--opset 13] [--input-nhwc input.f32 --input-nchw-out input_nchw.f32]

torch 1.13 serialises ONNX itself; the `onnx` Python package is not needed (nor used).
"""
import argparse
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mobilevit_ref as ref  # noqa: E402


def count_macs(model, x):
    """Multiply-accumulates of one forward pass: convs, linears and both attention matmuls
    (q k^T and attn v), the same things mvitc's header banner counts. A MobileViT block whose
    map does not split into whole patches resizes conv_1x1's output up to the patch grid;
    mvitc resizes its input instead (a bias-free 1x1 conv commutes with the bilinear blend)
    and so runs conv_1x1 on the grid's pixels: counted here the same way."""
    total = [0]
    grid_convs = {id(m.conv_1x1): m.patch for m in model.modules()
                  if isinstance(m, ref.MobileVitBlock)}

    def conv(m, i, o):
        pixels = o.shape[2] * o.shape[3]
        if id(m) in grid_convs:
            ph, pw = grid_convs[id(m)]
            pixels = -(-o.shape[2] // ph) * ph * (-(-o.shape[3] // pw) * pw)
        total[0] += (o.shape[0] * o.shape[1] * pixels * (m.in_channels // m.groups)
                     * m.kernel_size[0] * m.kernel_size[1])

    def linear(m, i, o):
        total[0] += o.numel() * m.in_features

    def attention(m, i, o):
        b, n, c = i[0].shape
        total[0] += 2 * b * n * n * c

    def linear_attention(m, i, o):  # the weighted key sum and relu(value) * context
        total[0] += 2 * o.numel()

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, ref.Attention):
            hooks.append(m.register_forward_hook(attention))
        elif isinstance(m, ref.LinearSelfAttention):
            hooks.append(m.register_forward_hook(linear_attention))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("desc")
    ap.add_argument("weights")
    ap.add_argument("out")
    ap.add_argument("--resolution", type=int, default=0)
    ap.add_argument("--opset", type=int, default=13, choices=[13, 14])
    ap.add_argument("--input-nhwc", help="golden NHWC float32 image (make_golden's input.f32)")
    ap.add_argument("--input-nchw-out", help="where to write that image as NCHW float32")
    args = ap.parse_args()
    torch.set_num_threads(1)  # export is light; leave the other core alone
    # shapes are fixed by the description, so the traced constants are exactly what we want
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

    model, desc = ref.build(args.desc, args.weights, args.resolution or None)
    inp = desc["input"]
    c, h, w = inp["channels"], inp["height"], inp["width"]
    x = torch.zeros(1, c, h, w)
    if args.input_nhwc:
        nhwc = np.fromfile(args.input_nhwc, dtype=np.float32)
        if nhwc.size != h * w * c:
            sys.exit(f"{args.input_nhwc}: error: {nhwc.size} floats, expected {h}x{w}x{c}")
        x = torch.from_numpy(nhwc.reshape(1, h, w, c)).permute(0, 3, 1, 2).contiguous()
        if args.input_nchw_out:
            x.numpy().tofile(args.input_nchw_out)

    macs = count_macs(model, x)
    with torch.no_grad():
        torch.onnx.export(model, (x,), args.out, opset_version=args.opset,
                          input_names=["input"], output_names=["logits"],
                          do_constant_folding=True)
        logits = model(x)
    print(f"{args.out}: opset {args.opset}, input 1x{c}x{h}x{w} NCHW, "
          f"{os.path.getsize(args.out)} bytes, {macs} MACs (reference count), "
          f"torch fp32 top-1 {logits.argmax().item()}")


if __name__ == "__main__":
    main()
