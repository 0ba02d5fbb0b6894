"""The first N Fashion-MNIST test images, preprocessed exactly as examples/classify and the
training script do (pixels/255, bilinear 28 -> model size, normalised), as raw NHWC float32:
the input of `e2e --preds`, which compares targets (e.g. NEON under qemu) on real images.
With WEIGHTS and LOGITS_OUT it also writes the PyTorch reference's logits for those images
(float64 forward pass, stored as float32, [N][classes]).

    /usr/bin/python3 tools/fmnist_inputs.py models/fmnist_xxs.yaml N OUT.f32 \
        [models/fmnist_xxs.safetensors LOGITS_OUT.f32]

With MVIT_GOLDEN_CACHE=DIR set (the test suite sets it), the files are made once per content
of the description, weights, test images and scripts, and N, and copied from DIR afterwards,
as tools/make_golden.py does.
"""
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

import mobilevit_ref as ref
import train_fmnist as tf


def cache_dir(paths, n):
    """DIR/<key> for these inputs, or None when MVIT_GOLDEN_CACHE is not set."""
    root = os.environ.get("MVIT_GOLDEN_CACHE")
    if not root:
        return None
    h = hashlib.sha256(b"fmnist_inputs")
    for path in (*paths, ref.__file__, tf.__file__, os.path.abspath(__file__)):
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    h.update(f"|{n}".encode())
    return os.path.join(root, "fmnist-" + h.hexdigest()[:32])


def publish(files, hit):
    """Copies FILES (name -> path) into the cache entry hit, atomically (tests run in parallel)."""
    os.makedirs(os.path.dirname(hit), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(hit))
    for name, path in files.items():
        shutil.copyfile(path, os.path.join(tmp, name))
    try:
        os.rename(tmp, hit)
    except OSError:  # another test published the same entry first
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    desc_path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    images = tf.find("t10k-images-idx3-ubyte")
    files = {"inputs.f32": out}
    if len(sys.argv) > 5:
        files["logits.f32"] = sys.argv[5]
    hit = cache_dir([desc_path, images] + sys.argv[4:5], n)
    if hit and all(os.path.exists(os.path.join(hit, f)) for f in files):
        for name, path in files.items():
            shutil.copyfile(os.path.join(hit, name), path)
        print(f"{n} images, {', '.join(files.values())} (cached)")
        return
    desc = ref.load_desc(desc_path)
    size = desc["input"]["height"]
    mean, std = desc["input"]["mean"][0], desc["input"]["std"][0]
    u8 = tf.read_idx(images)[:n]
    x = tf.preprocess(u8, size, mean, std)  # [N, 1, size, size]
    x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32).tofile(out)
    print(f"{x.shape[0]} images ({size}x{size}) -> {out}")
    if len(sys.argv) > 5:
        torch.set_num_threads(2)
        model, _ = ref.build(desc_path, sys.argv[4])
        with torch.no_grad():
            logits = model.double()(x.double()).float()
        logits.numpy().tofile(sys.argv[5])
        print(f"PyTorch logits -> {sys.argv[5]}")
    if hit:
        publish(files, hit)


if __name__ == "__main__":
    main()
