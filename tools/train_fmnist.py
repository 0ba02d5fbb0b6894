"""Train a shipped MobileViT (10 classes, 1x64x64) on Fashion-MNIST: fmnist_xxs (v1 XXS
topology) or fmnist_v2_050 (v2 width 0.5), by --desc.

Data: Debian's dataset-fashion-mnist (gzipped IDX). Preprocessing, identical in
examples/classify: pixels/255 -> bilinear resize 28->64 (align_corners=False) ->
(x - mean) / std with the mean/std of the description. The 10k test set is used
only for the final evaluation.

    /usr/bin/python3 tools/train_fmnist.py --epochs 15 --out models/fmnist_xxs.safetensors
    /usr/bin/python3 tools/train_fmnist.py --desc models/fmnist_v2_050.yaml \
        --arch mobilevitv2_050 --out models/fmnist_v2_050.safetensors \
        --preds models/fmnist_v2_050.test_preds.u8 --epochs 15 --channels-last
"""
import argparse
import gzip
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mobilevit_ref as ref  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(name):
    for cand in (name, name + ".gz"):
        p = os.path.join(DATA, cand)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(DATA, name))


def preprocess(u8, size, mean, std):
    """uint8 [N,28,28] -> float [N,1,size,size], exactly as examples/classify does."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0).unsqueeze(1)
    out = []
    for i in range(0, x.shape[0], 4096):
        out.append(F.interpolate(x[i:i + 4096], size=(size, size), mode="bilinear",
                                 align_corners=False))
    x = torch.cat(out)
    return (x - mean) / std


def augment(x, g, shift=4):
    """Random shift (zero padding in normalised space = background) and horizontal flip."""
    n, _, h, w = x.shape
    pad_val = float(x.min())
    xp = F.pad(x, (shift, shift, shift, shift), value=pad_val)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))  # n,h
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))  # n,w
    idx_n = torch.arange(n).view(n, 1, 1)
    out = xp[idx_n, 0, rows.view(n, h, 1), cols.view(n, 1, w)].unsqueeze(1)
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def evaluate(model, x, fmt, bs=500):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, x.shape[0], bs):
            preds.append(model(x[i:i + bs].contiguous(memory_format=fmt)).argmax(1))
    return torch.cat(preds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--desc", default="models/fmnist_xxs.yaml")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true",
                    help="NHWC tensors: 1.7x faster steps for v2 on PyTorch 1.13's oneDNN")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (smoke)")
    ap.add_argument("--arch", default="mobilevit_xxs", help="the topology, for the metadata")
    ap.add_argument("--out", default="models/fmnist_xxs.safetensors")
    ap.add_argument("--preds", default="models/fmnist_xxs.test_preds.u8",
                    help="PyTorch top-1 of each test image, one byte each")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()

    desc = ref.load_desc(args.desc)
    size, mean, std = desc["input"]["height"], desc["input"]["mean"][0], desc["input"]["std"][0]
    xtr = preprocess(read_idx(find("train-images-idx3-ubyte")), size, mean, std)
    ytr = torch.from_numpy(read_idx(find("train-labels-idx1-ubyte")).astype(np.int64))
    xte = preprocess(read_idx(find("t10k-images-idx3-ubyte")), size, mean, std)
    yte = torch.from_numpy(read_idx(find("t10k-labels-idx1-ubyte")).astype(np.int64))
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]

    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = ref.MobileViT(desc).to(memory_format=fmt)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"params {nparams}, train {len(xtr)}, test {len(xte)}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = len(xtr) // args.batch
    total = steps_per_epoch * args.epochs
    warmup = min(steps_per_epoch, total // 10)

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        t = (step - warmup) / max(1, total - warmup)
        return args.lr * 0.5 * (1 + np.cos(np.pi * t))

    crit = nn.CrossEntropyLoss(label_smoothing=args.smoothing)
    g = torch.Generator().manual_seed(args.seed)
    step = 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        tl, tc, tn, te = 0.0, 0, 0, time.time()
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb, yb = augment(xtr[idx], g).contiguous(memory_format=fmt), ytr[idx]
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step)
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tl += loss.item() * len(yb)
            tc += (out.argmax(1) == yb).sum().item()
            tn += len(yb)
            if i % 50 == 0:
                print(f"epoch {epoch} step {i}/{steps_per_epoch} loss {tl / tn:.4f} "
                      f"acc {tc / tn:.4f} {time.time() - te:.0f}s", flush=True)
        print(f"epoch {epoch} done: loss {tl / tn:.4f} train acc {tc / tn:.4f} "
              f"epoch time {time.time() - te:.0f}s total {time.time() - t0:.0f}s", flush=True)

    preds = evaluate(model, xte, fmt)
    acc = (preds == yte).float().mean().item()
    print(f"TEST top-1 {acc * 100:.2f}% ({int((preds == yte).sum())}/{len(yte)})", flush=True)
    state = {k: v for k, v in model.state_dict().items()}
    ref.save_safetensors(state, args.out, metadata={
        "format": "pt", "arch": args.arch, "dataset": "fashion-mnist",
        "test_top1": f"{acc * 100:.2f}", "epochs": str(args.epochs), "seed": str(args.seed)})
    preds.to(torch.uint8).numpy().tofile(args.preds)
    print(f"wrote {args.out} and {args.preds}; wall time {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
