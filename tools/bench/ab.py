#!/usr/bin/python3
"""A/B regression check of two mvitc builds: for each model and precision, both compile the
same description and random timm-named weights (tools/make_golden.py), the two generated files
must give byte-identical logits on the golden input, and bench_main.c times them alternately
(A, B then B, A each round, so drift hits both sides alike). Prints the median time of each
side, their ratio, the median over rounds of each round's B/A (the two sides of a round ran
back to back: the machine's slow drift cancels) and the ratio of the minima; compare only
ratios from one run.

  tools/bench/ab.py OLD_MVITC NEW_MVITC WORK_DIR [--models xxs,xs,s] [--precisions fp32,int8]
                    [--target avx2] [--target-b TARGET] [--rounds 30]

--target-b: side B compiles for another target (A for --target), e.g. the x86-64 file against
the single-target file of the path it picks here (one mvitc may be passed twice); the logits
must still be identical bytes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def build(mvitc, model, work, side, prec, target):
    """Compiles the model with one mvitc and links bench_main.c; returns the directory."""
    d = os.path.join(work, f"{side}-{prec}-{target}")
    cmd = [mvitc, "compile", os.path.join(SRC, "models", f"mobilevit_{model}.yaml"),
           "--weights", os.path.join(work, "golden", "weights.safetensors"),
           "--precision", prec, "--target", target, "--name", "net", "-o", d]
    if prec == "int8":  # calibrated on the golden input itself: both sides alike
        cmd += ["--calib", os.path.join(work, "golden", "input.f32")]
    run(cmd, stderr=subprocess.DEVNULL)
    run(["clang", "-std=c11", "-O3", "-march=haswell", "-I" + d,
         os.path.join(SRC, "tools", "bench", "bench_main.c"), os.path.join(d, "net.c"),
         "-o", os.path.join(d, "bench")])
    return d


def times(d, work, logits=None):
    cmd = [os.path.join(d, "bench"), "--input", os.path.join(work, "golden", "input.f32"),
           "--warmup", "2", "--runs", "5"]
    if logits:
        cmd += ["--logits-out", logits]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["times_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("work")
    ap.add_argument("--models", default="xxs,xs,s")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--target", default="avx2")
    ap.add_argument("--target-b", default=None, help="side B's target (default: --target)")
    ap.add_argument("--rounds", type=int, default=30)
    a = ap.parse_args()
    worst = 0.0
    for m in a.models.split(","):
        work = os.path.join(os.path.abspath(a.work), m)
        os.makedirs(work, exist_ok=True)
        if not os.path.exists(os.path.join(work, "golden", "input.f32")):
            run(["/usr/bin/python3", os.path.join(SRC, "tools", "make_golden.py"),
                 os.path.join(SRC, "models", f"mobilevit_{m}.yaml"), os.path.join(work, "golden")],
                stdout=subprocess.DEVNULL)
        for p in a.precisions.split(","):
            sides = {s: build(exe, m, work, s, p, tgt)
                     for s, exe, tgt in (("A", a.old, a.target),
                                         ("B", a.new, a.target_b or a.target))}
            la, lb = (os.path.join(sides[s], "logits.f32") for s in "AB")
            times(sides["A"], work, la), times(sides["B"], work, lb)
            if open(la, "rb").read() != open(lb, "rb").read():
                sys.exit(f"{m} {p}: the two builds' logits differ")
            t = {"A": [], "B": []}
            paired = []  # per round: B's median over A's, both timed back to back
            for r in range(a.rounds):
                got = {}
                for s in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    got[s] = times(sides[s], work)
                    t[s] += got[s]
                paired.append(statistics.median(got["B"]) / statistics.median(got["A"]))
            ma, mb = statistics.median(t["A"]), statistics.median(t["B"])
            ratio = statistics.median(paired)
            worst = max(worst, ratio)
            print(f"{m:4s} {p} {a.target}{'/' + a.target_b if a.target_b else ''}: A {ma:.3f} ms  B {mb:.3f} ms  B/A {mb / ma:.4f}  "
                  f"paired B/A {ratio:.4f}  min B/A {min(t['B']) / min(t['A']):.4f}  "
                  f"(logits identical, {len(t['A'])} runs each)", flush=True)
    print(f"worst paired B/A {worst:.4f}")


if __name__ == "__main__":
    main()
