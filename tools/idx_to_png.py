"""Writes Fashion-MNIST test images as 28x28 grayscale PNGs (no imaging library needed).

    /usr/bin/python3 tools/idx_to_png.py OUT_DIR INDEX [INDEX ...]
"""
import gzip
import os
import struct
import sys
import zlib

DATA = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
         "ankle_boot"]


def write_png(path, w, h, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * w:(y + 1) * w]) for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    images = gzip.open(DATA).read()[16:]
    labels = gzip.open(DATA.replace("images-idx3", "labels-idx1")).read()[8:]
    for idx in map(int, sys.argv[2:]):
        px = images[idx * 784:(idx + 1) * 784]
        path = os.path.join(out, f"{idx:05d}_{NAMES[labels[idx]]}.png")
        write_png(path, 28, 28, px)
        print(path)


if __name__ == "__main__":
    main()
