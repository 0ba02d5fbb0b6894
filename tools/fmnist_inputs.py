"""The first N Fashion-MNIST test images, preprocessed exactly as examples/classify and the
training script do (pixels/255, bilinear 28 -> model size, normalised), as raw NHWC float32:
the input of `e2e --preds`, which compares targets (e.g. NEON under qemu) on real images.
With WEIGHTS and LOGITS_OUT it also writes the PyTorch reference's logits for those images
(float64 forward pass, stored as float32, [N][classes]).

    /usr/bin/python3 tools/fmnist_inputs.py models/fmnist_xxs.yaml N OUT.f32 \
        [models/fmnist_xxs.safetensors LOGITS_OUT.f32]
"""
import sys

import numpy as np
import torch

import mobilevit_ref as ref
import train_fmnist as tf


def main():
    desc_path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    desc = ref.load_desc(desc_path)
    size = desc["input"]["height"]
    mean, std = desc["input"]["mean"][0], desc["input"]["std"][0]
    u8 = tf.read_idx(tf.find("t10k-images-idx3-ubyte"))[:n]
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


if __name__ == "__main__":
    main()
