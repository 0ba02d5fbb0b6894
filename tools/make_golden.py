"""Random-weight reference data for the end-to-end tests.

Writes, for a model description: DIR/weights.safetensors (timm names, random non-trivial
weights incl. BatchNorm running stats), DIR/input.f32 (one NHWC float32 image) and
DIR/logits.f32 (PyTorch's logits, computed in float64 and stored as float32).

    /usr/bin/python3 tools/make_golden.py models/mobilevit_xxs.yaml OUT_DIR [--seed 1]

With MVIT_GOLDEN_CACHE=DIR set (the test suite sets it), the three files are made once per
description content, size, seed and dtype (and version of this script and the reference) and
copied from DIR afterwards: many tests share the same golden data.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mobilevit_ref as ref  # noqa: E402


FILES = ("weights.safetensors", "input.f32", "logits.f32", "summary.txt")


def cache_dir(args):
    """DIR/<key> for these arguments, or None when MVIT_GOLDEN_CACHE is not set."""
    root = os.environ.get("MVIT_GOLDEN_CACHE")
    if not root:
        return None
    h = hashlib.sha256()
    for path in (args.desc, ref.__file__, os.path.abspath(__file__)):
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(f"|{args.resolution}|{args.seed}|{args.dtype}".encode())
    return os.path.join(root, h.hexdigest()[:32])


def publish(out, hit):
    """Copies OUT's files into the cache entry hit, atomically (concurrent tests may race)."""
    os.makedirs(os.path.dirname(hit), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(hit))
    for f in FILES:
        shutil.copyfile(os.path.join(out, f), os.path.join(tmp, f))
    try:
        os.rename(tmp, hit)
    except OSError:  # another test published the same entry first
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("desc")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resolution", default="", help="R or HxW (default: the description's)")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"],
                    help="dtype of the written weights; the reference uses the rounded values")
    args = ap.parse_args()
    hit = cache_dir(args)
    if hit and all(os.path.exists(os.path.join(hit, f)) for f in FILES):
        os.makedirs(args.out, exist_ok=True)
        for f in FILES:
            shutil.copyfile(os.path.join(hit, f), os.path.join(args.out, f))
        with open(os.path.join(hit, "summary.txt")) as f:
            print(f.read().strip() + " (cached)")
        return
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    desc = ref.load_desc(args.desc, args.resolution or None)
    model = ref.MobileViT(desc).eval()
    ref.randomize(model, args.seed)
    conv = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[args.dtype]
    state = {k: (v.to(conv) if v.is_floating_point() else v)
             for k, v in model.state_dict().items()}
    # the reference runs on exactly the values the file holds
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in state.items()})
    os.makedirs(args.out, exist_ok=True)
    ref.save_safetensors(state, os.path.join(args.out, "weights.safetensors"))

    inp = desc["input"]
    g = torch.Generator().manual_seed(args.seed + 1000)
    x = torch.rand(1, inp["channels"], inp["height"], inp["width"], generator=g) * 2 - 1
    with torch.no_grad():
        logits = model.double()(x.double()).float()
    x.permute(0, 2, 3, 1).contiguous().numpy().tofile(os.path.join(args.out, "input.f32"))
    logits.numpy().tofile(os.path.join(args.out, "logits.f32"))
    summary = (f"{args.desc}: {sum(p.numel() for p in model.parameters())} params, "
               f"max|logit| {logits.abs().max().item():.4f}, top-1 {logits.argmax().item()}")
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary + "\n")
    print(summary)
    if hit:
        publish(args.out, hit)


if __name__ == "__main__":
    main()
