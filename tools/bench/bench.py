"""mvitc vs ONNX Runtime benchmark: the single entry point of tools/bench/.

For each configuration (XXS, XS, S at 256x256; XXS at 128 and 64) it makes seeded random
weights and a golden image (tools/make_golden.py), exports the PyTorch reference to ONNX
(export_onnx.py), compiles the model with mvitc (--target), builds the C timing harness
(bench_main.c + net.c), checks once that mvitc's logits agree with ORT's (and aborts if not,
so a wrong model is never timed), then alternates ORT 1T, ORT 2T and mvitc in rounds (the
order rotates each round) so machine noise hits every side alike. Reports medians, GMAC/s,
% of the FMA peak and the arena against its lower bound, and writes docs/benchmarks.md.

    /usr/bin/python3 tools/bench/bench.py                   # full run, writes docs/benchmarks.md
    /usr/bin/python3 tools/bench/bench.py --smoke           # XXS@64, 1 round of 3 runs per side
    /usr/bin/python3 tools/bench/bench.py --configs xxs64,xxs128 --rounds 5 --runs 10

Needs: build/mvitc, /usr/bin/python3 with torch and numpy, node, and
`ONNXRUNTIME_NODE_INSTALL=skip npm ci` run in tools/bench/.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"

# name -> (description, resolution override or 0); the order is the table's order
CONFIGS = {
    "xxs": ("models/mobilevit_xxs.yaml", 0),
    "xs": ("models/mobilevit_xs.yaml", 0),
    "s": ("models/mobilevit_s.yaml", 0),
    "xxs128": ("models/mobilevit_xxs_128.yaml", 0),
    "xxs64": ("models/mobilevit_xxs.yaml", 64),
    # 224 / 32 = 7: the last MobileViT block resizes its 7x7 map to 8x8 and back
    "xxs224": ("models/mobilevit_xxs.yaml", 224),
    # MobileViT v2 and v3 (issue 21)
    "v2_050": ("models/mobilevitv2_050.yaml", 0),
    "v2_100": ("models/mobilevitv2_100.yaml", 0),
    "v2_200": ("models/mobilevitv2_200.yaml", 0),
    "v3_xxs": ("models/mobilevitv3_xxs.yaml", 0),
}
LABELS = {"xxs": "MobileViT-XXS", "xs": "MobileViT-XS", "s": "MobileViT-S",
          "xxs128": "MobileViT-XXS", "xxs64": "MobileViT-XXS", "xxs224": "MobileViT-XXS",
          "v2_050": "MobileViTv2-0.5", "v2_100": "MobileViTv2-1.0", "v2_200": "MobileViTv2-2.0",
          "v3_xxs": "MobileViTv3-XXS"}

# fp32 AVX2 FMA peak: 2 FMA pipes x 8 floats (256 bits) = 16 MACs (32 flops) per cycle per core
MAC_PER_CYCLE = 16


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    """Runs cmd (list), returns stdout; on failure prints the command and its stderr, exits."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        log(f"bench: error: command failed ({p.returncode}): {shlex.join(cmd)}")
        log(p.stderr.strip() + "\n" + p.stdout.strip())
        sys.exit(1)
    return p.stdout, p.stderr


# ---------------------------------------------------------------------------------------------
# Machine facts


def machine_info():
    info = {"model": platform.processor() or "?", "cores": os.cpu_count(), "mhz": None}
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() == "Model name":
                info["model"] = v.strip()
            elif k.strip() == "Core(s) per socket":
                info["cores_per_socket"] = v.strip()
            elif k.strip() == "Thread(s) per core":
                info["threads_per_core"] = v.strip()
            elif k.strip() == "Hypervisor vendor":
                info["hypervisor"] = v.strip()
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            mhz = [float(m) for m in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", f.read(), re.M)]
        if mhz:
            info["mhz"] = max(mhz)
    except OSError:
        pass
    return info


def default_doc(args):
    """docs/benchmarks.md (fp32), benchmarks-int8.md (int8, AVX2), benchmarks-int8-avxvnni.md
    (int8 built with AVX-VNNI)."""
    name = ("benchmarks.md" if args.precision != "int8" else
            "benchmarks-int8-avxvnni.md" if getattr(args, "avxvnni", False) else
            "benchmarks-int8.md")
    return os.path.join(ROOT, "docs", name)


def builds_avxvnni(args):
    """Whether --cc with --cflags defines __AVXVNNI__: then the generated int8 GEMM runs its
    vpdpbusd loop (kernels/i8-gemm-avx2.c)."""
    out, _ = run([args.cc, *shlex.split(args.cflags), "-dM", "-E", "-x", "c", os.devnull])
    # AVX-VNNI, or AVX512-VNNI with VL: the EVEX vpdpbusd on ymm (kernels/mvk-avx2.h)
    return "__AVXVNNI__" in out or ("__AVX512VNNI__" in out and "__AVX512VL__" in out)


def builds_avx512vnni(args):
    """Whether --cflags define __AVX512VNNI__: the avx512 target's int8 GEMM then runs its
    512-bit vpdpbusd loop (kernels/i8-gemm-avx512.c)."""
    out, _ = run([args.cc, *shlex.split(args.cflags), "-dM", "-E", "-x", "c", os.devnull])
    return "__AVX512VNNI__" in out


def peak_mode(args):
    """fma_peak.c's mode: fp32 FMAs; for --precision int8 the int8 GEMM's inner instruction,
    vpdpbusd where the build has AVX-VNNI, else vpmaddwd + vpaddd."""
    if args.precision != "int8":
        return ["zmm"] if args.target == "avx512" else []
    if getattr(args, "znni", False):
        return ["znni"]
    return ["vnni"] if args.avxvnni else ["int8"]


def measure_fma_peak(args):
    """One core's multiply-accumulate throughput in GMAC/s (best of 5 runs of fma_peak.c) for
    the instructions of peak_mode."""
    exe = os.path.join(args.work, "fma_peak")
    run([args.cc, "-O2", os.path.join(HERE, "fma_peak.c"), "-o", exe])
    return float(run([exe, *peak_mode(args)])[0].strip())


def goal_ratio(args):
    """The issue's mvitc/ORT(1T) goal: 0.6 for fp32 (issues 4, 23), 0.35 for int8 (issue 6),
    0.3 for int8 on the avx512 target (issue 23)."""
    if args.precision != "int8":
        return 0.6
    return 0.3 if args.target == "avx512" else 0.35


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


# ---------------------------------------------------------------------------------------------
# Reading what mvitc wrote

IR_LINE = re.compile(r"^\s*\d+\s+(\S+)\s+(\S+)\s+->\s+v(\d+)\s+(\d+)x(\d+)x(\d+)(.*)$")


def parse_header(path):
    """Returns MACs (banner line) and arena bytes / input dims (macros) of the generated header."""
    with open(path) as f:
        text = f.read()
    macs = re.search(r"(\d+) MACs", text)
    arena = re.search(r"#define \w+_ARENA_BYTES (\d+)", text)
    dims = [re.search(rf"#define \w+_INPUT_{k} (\d+)", text) for k in
            ("HEIGHT", "WIDTH", "CHANNELS")]
    if not (macs and arena and all(dims)):
        log(f"bench: error: {path}: no MACs banner, ARENA_BYTES or INPUT_* macros")
        sys.exit(1)
    return int(macs.group(1)), int(arena.group(1)), [int(d.group(1)) for d in dims]


def arena_bounds(ir_text, image_hwc):
    """Lower bounds on the arena from `mvitc --dump-ir` (lines '... -> vN HxWxC in:vK res:vK @off').

    Values without '@offset' live outside the arena (v0 = the caller's image, the last value =
    the caller's logits) and are not counted. Returns
      layer: max over layers of the bytes of its distinct arena values (inputs + output), which
             any plan that keeps a layer's inputs and output apart must hold at once;
      live:  max over layers of the bytes of every arena value defined so far and still used at
             or after that layer (this schedule, no layer writing over its own input).
    """
    shape = {0: image_hwc}
    in_arena = {0: False}
    layers = []  # (out, [inputs])
    for line in ir_text.splitlines():
        m = IR_LINE.match(line)
        if not m:
            continue
        out = int(m.group(3))
        shape[out] = [int(m.group(i)) for i in (4, 5, 6)]
        rest = m.group(7)
        in_arena[out] = "@" in rest
        layers.append((out, [int(v) for v in re.findall(r"\b(?:in|res):v(\d+)", rest)]))
    if not layers:
        return None, None

    def nbytes(v):
        h, w, c = shape[v]
        return 4 * h * w * c

    layer_bound = 0
    for out, ins in layers:
        vals = {v for v in [out] + ins if in_arena.get(v)}
        layer_bound = max(layer_bound, sum(nbytes(v) for v in vals))
    last_use = {}
    for i, (out, ins) in enumerate(layers):
        for v in ins:
            last_use[v] = i
    live_bound = 0
    for i, (out, ins) in enumerate(layers):
        live = {o for j, (o, _) in enumerate(layers[:i + 1])
                if in_arena.get(o) and (o == out or last_use.get(o, -1) >= i)}
        live_bound = max(live_bound, sum(nbytes(v) for v in live))
    return layer_bound, live_bound


# ---------------------------------------------------------------------------------------------
# Preparing one configuration


def derived_yaml(src, resolution, dst):
    """The description with the input block's height/width set to resolution (mvitc has no
    --resolution flag; make_golden's --resolution does the same to the reference)."""
    with open(src) as f:
        text = f.read()
    text, n = re.subn(r"^(\s+)(height|width):\s*\d+\s*$", rf"\g<1>\g<2>: {resolution}", text,
                      flags=re.M)
    if n != 2:
        log(f"bench: error: {src}: expected one input height and width, found {n} lines")
        sys.exit(1)
    text = re.sub(r"^name:\s*(\S+)", rf"name: \g<1>_{resolution}", text, count=1, flags=re.M)
    with open(dst, "w") as f:
        f.write(text)


def prepare(cfg, args, work):
    desc, res = CONFIGS[cfg]
    d = os.path.join(work, cfg)
    os.makedirs(d, exist_ok=True)
    yaml_path = os.path.join(ROOT, desc)
    if res:
        yaml_path = os.path.join(d, f"model_{res}.yaml")
        derived_yaml(os.path.join(ROOT, desc), res, yaml_path)
    g = os.path.join(d, "golden")
    log(f"[{cfg}] weights + golden (make_golden --seed {args.seed})")
    run([PY, os.path.join(ROOT, "tools", "make_golden.py"), yaml_path, g,
         "--seed", str(args.seed)])
    log(f"[{cfg}] ONNX export (opset {args.opset})")
    onnx = os.path.join(d, "model.onnx")
    out, _ = run([PY, os.path.join(HERE, "export_onnx.py"), yaml_path,
                  os.path.join(g, "weights.safetensors"), onnx, "--opset", str(args.opset),
                  "--input-nhwc", os.path.join(g, "input.f32"),
                  "--input-nchw-out", os.path.join(g, "input_nchw.f32")])
    ref_macs = re.search(r"(\d+) MACs", out)
    log(f"[{cfg}] mvitc compile --target {args.target}")
    gen = os.path.join(d, "gen")
    extra = []
    if args.precision == "int8":  # latency does not depend on calibration quality
        extra = ["--precision", "int8", "--calib", os.path.join(g, "input.f32")]
    _, ir = run([args.mvitc, "compile", yaml_path,
                 "--weights", os.path.join(g, "weights.safetensors"), "--target", args.target,
                 "--name", "net", "-o", gen, "--dump-ir", *extra])
    with open(os.path.join(d, "ir.txt"), "w") as f:
        f.write(ir)
    macs, arena, hwc = parse_header(os.path.join(gen, "net.h"))
    if not ref_macs or int(ref_macs.group(1)) != macs:
        log(f"bench: error: [{cfg}] header banner says {macs} MACs, the reference counts "
            f"{ref_macs.group(1) if ref_macs else '?'}")
        sys.exit(1)
    layer_bound, live_bound = arena_bounds(ir, hwc)
    exe = {}
    for t in args.mvitc_threads:
        # MVIT_THREADS > 1 selects net_run_parallel in bench_main.c (see 'Threads' there)
        flags = shlex.split(args.cflags)
        srcs = [os.path.join(HERE, "bench_main.c"), os.path.join(gen, "net.c")]
        if t > 1:
            flags += [f"-DMVIT_THREADS={t}", "-I", os.path.join(ROOT, "runtime"), "-pthread"]
            srcs.append(os.path.join(ROOT, "runtime", "mvrt_pool.c"))
        log(f"[{cfg}] build harness ({t}T): {args.cc} {shlex.join(flags)}")
        exe[t] = os.path.join(d, f"bench_t{t}")
        run([args.cc, "-std=c11", *flags, "-I", gen, *srcs, "-o", exe[t], "-lm"])
    return {"cfg": cfg, "dir": d, "golden": g, "onnx": onnx, "exe": exe, "macs": macs,
            "arena": arena, "arena_layer_bound": layer_bound, "arena_live_bound": live_bound,
            "hwc": hwc}


# ---------------------------------------------------------------------------------------------
# Running the sides


def side_cmd(p, side, warmup, runs, logits_out=None):
    h, w, c = p["hwc"]
    kind, threads = side.split("-")[0], int(side.split("-")[1])
    if kind == "mvitc":
        cmd = [p["exe"][threads], "--input", os.path.join(p["golden"], "input.f32")]
    else:
        cmd = ["node", os.path.join(HERE, "ort_bench.mjs"), "--model", p["onnx"],
               "--input", os.path.join(p["golden"], "input_nchw.f32"),
               "--shape", f"1,{c},{h},{w}", "--threads", str(threads)]
    cmd += ["--warmup", str(warmup), "--runs", str(runs)]
    if logits_out:
        cmd += ["--logits-out", logits_out]
    return cmd


def check_agreement(p, args):
    """One inference per side (ORT 1T, each mvitc thread count); aborts if any mvitc build and
    ORT disagree beyond rel_tol * max|logit|. Reports the worst mvitc build."""
    lo = os.path.join(p["dir"], "ort_logits.f32")
    run(side_cmd(p, "ort-1", 0, 1, lo))
    o = np.fromfile(lo, np.float32)
    ref = np.fromfile(os.path.join(p["golden"], "logits.f32"), np.float32)
    scale = float(np.abs(ref).max())
    agree = {"mvitc_vs_ort": 0.0, "mvitc_vs_torch64": 0.0,
             "ort_vs_torch64": float(np.abs(o - ref).max()) if o.shape == ref.shape else None,
             "max_abs_logit": scale, "top1_same": True}
    for t in args.mvitc_threads:
        lm = os.path.join(p["dir"], f"mvitc_t{t}_logits.f32")
        run(side_cmd(p, f"mvitc-{t}", 0, 1, lm))
        m = np.fromfile(lm, np.float32)
        if not (m.shape == o.shape == ref.shape):
            log(f"bench: error: [{p['cfg']}] logits sizes differ: mvitc {t}T {m.size}, "
                f"ORT {o.size}, torch {ref.size}")
            sys.exit(1)
        d_ort, d_ref = float(np.abs(m - o).max()), float(np.abs(m - ref).max())
        log(f"[{p['cfg']}] agreement, mvitc {t}T: max|mvitc-ORT| {d_ort:.3g}, "
            f"max|mvitc-torch64| {d_ref:.3g}, max|ORT-torch64| {agree['ort_vs_torch64']:.3g} "
            f"(max|logit| {scale:.3g})")
        if d_ort > args.rel_tol * max(scale, 1e-6) and args.precision != "int8":
            log(f"bench: error: [{p['cfg']}] mvitc {t}T and ORT disagree beyond "
                f"{args.rel_tol} x max|logit|; not timing a wrong model")
            sys.exit(1)
        agree["mvitc_vs_ort"] = max(agree["mvitc_vs_ort"], d_ort)
        agree["mvitc_vs_torch64"] = max(agree["mvitc_vs_torch64"], d_ref)
        agree["top1_same"] &= bool(m.argmax() == o.argmax())
    return agree


def cpu_snapshot():
    """(wall s, non-idle CPU s of the whole machine, steal s, CPU s of our finished children)."""
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    t = os.times()
    return time.monotonic(), busy / hz, v[7] / hz, t.children_user + t.children_system


def other_load(before, after):
    """Average CPUs used by processes other than the benchmark's own, and average CPUs stolen
    by the hypervisor, between two snapshots: the noise this run could not avoid."""
    wall = after[0] - before[0]
    ours = after[3] - before[3]
    return {"other_cpus": max(0.0, (after[1] - before[1] - ours) / wall),
            "steal_cpus": (after[2] - before[2]) / wall}


def bench_config(p, sides, args):
    times = {s: [] for s in sides}
    snap = cpu_snapshot()
    for r in range(args.rounds):
        k = r % len(sides)
        order = sides[k:] + sides[:k]  # rotate, so no side always runs right after another
        for s in order:
            out, _ = run(side_cmd(p, s, args.warmup, args.runs))
            times[s] += json.loads(out.strip().splitlines()[-1])["times_ms"]
        log(f"[{p['cfg']}] round {r + 1}/{args.rounds}: " + ", ".join(
            f"{s} {statistics.median(times[s]):.3f} ms" for s in sides))
    p["load"] = other_load(snap, cpu_snapshot())
    log(f"[{p['cfg']}] while timing, other processes used {p['load']['other_cpus']:.2f} CPUs "
        f"on average, the hypervisor stole {p['load']['steal_cpus']:.2f}")
    return times


# ---------------------------------------------------------------------------------------------
# Report


def pct(xs, q):
    return float(np.percentile(np.array(xs), q))


def fmt_ms(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def resize_cost_lines(results):
    """XXS at 224x224 (whose last MobileViT block resizes 7x7 to 8x8 and back) against XXS at
    256x256 scaled by the pixel count: what the resizes cost (the goal: at most 1.1)."""
    by = {r["cfg"]: r for r in results}
    if "xxs" not in by or "xxs224" not in by:
        return []
    t256, t224 = (statistics.median(by[c]["times"]["mvitc-1"]) for c in ("xxs", "xxs224"))
    scale, macs = (224 / 256) ** 2, by["xxs224"]["macs"] / by["xxs"]["macs"]
    return ["", f"Any input size: MobileViT-XXS at 224x224 (the last MobileViT block resizes its "
            f"7x7 map to 8x8 and back) takes {t224 / (scale * t256):.3f} x (224/256)² x the "
            f"256x256 time (mvitc 1T medians {fmt_ms(t224)} and {fmt_ms(t256)} ms; its MACs are "
            f"{macs / scale:.3f} x (224/256)² x those at 256, since the last block's transformer "
            "runs on the 8x8 grid either way)."]


def write_doc(path, results, meta, args):
    peak1 = meta["peak_gmacs"]  # GMAC/s, one core
    L = []
    if args.smoke:
        L += ["# Benchmarks — SMOKE RUN", "",
              "> **This is a smoke run, not a benchmark.** It only shows that the pipeline works "
              f"({args.rounds} round(s) of {args.runs} run(s) per side, {', '.join(args.configs)} "
              "only), possibly while other jobs used the CPU. Do not quote these numbers; "
              "regenerate this file with the full command below.", ""]
    else:
        L += ["# Benchmarks", ""]
    if getattr(args, "note", None):
        L += [f"> **Note on this run:** {args.note}", ""]
    if getattr(args, "precision", "fp32") == "int8":
        L += ["**INT8**: mvitc's `--precision int8` build (integer-only, the same logits bytes "
              "on every target) against ONNX Runtime's **fp32** model. The issue's goal is "
              f"mvitc/ORT(1T) <= {goal_ratio(args)}. Random weights, calibrated on the one benchmark input "
              "(latency does not depend on the calibration); the int8 logits are not expected "
              "to match ORT's fp32 ones closely (accuracy: docs/int8.md). '% peak' and 'ORT x "
              f"{goal_ratio(args)} needs' are against one core's int8 multiply-accumulate peak ("
              + ("zmm vpdpbusd: this build has AVX512-VNNI (`-mavx512vnni`), so the avx512 int8 "
                 "GEMM and the attention's scores run 512-bit vpdpbusd; the depthwise conv and "
                 "P.V stay on vpmaddwd" if getattr(args, "znni", False) else
                 "vpdpbusd: this build has AVX-VNNI (`-mavxvnni`), so the int8 GEMM runs its "
                 "vpdpbusd loop; the attention and depthwise kernels stay on vpmaddwd"
                 if getattr(args, "avxvnni", False) else
                 "vpmaddwd + vpaddd, the instructions of the AVX2 int8 kernels")
              + "), see Machine and method.", ""]
    L += [f"mvitc's generated C (target `{args.target}`) against ONNX Runtime "
          f"{meta['ort_version']} (onnxruntime-node, CPU execution provider) on the same "
          "random-weight models and the same input, measured in one run of "
          "`tools/bench/bench.py`. Written by that tool; do not edit by hand.", ""]
    if args.target == "generic":
        L += ["The `generic` target is portable C with no SIMD intrinsics: it is the baseline, "
              "and it is expected to be much slower than ONNX Runtime's hand-tuned AVX2/FMA "
              "kernels. The AVX2 target is what should close the gap.", ""]
    L += ["## Machine and method", "",
          f"- CPU: {meta['cpu']['model']}, {meta['cpu']['cores']} logical CPUs "
          f"({meta['cpu'].get('cores_per_socket', '?')} cores/socket, "
          f"{meta['cpu'].get('threads_per_core', '?')} thread/core"
          + (f", {meta['cpu']['hypervisor']} guest" if meta["cpu"].get("hypervisor") else "")
          + ")",
          f"- Date: {meta['date']}; load average before/after: {meta['load_before']} / "
          f"{meta['load_after']}",
          f"- mvitc side: `{args.cc} -std=c11 {args.cflags}` ({meta['cc_version']}), "
          "`net_run` (1T) or `net_run_parallel` on runtime/mvrt_pool (2T, where shown) timed with "
          "`clock_gettime(CLOCK_MONOTONIC)`",
          f"- ORT side: node {meta['node_version']}, onnxruntime-node {meta['ort_version']}, "
          "graphOptimizationLevel 'all', intraOpNumThreads 1 or 2, interOpNumThreads 1, "
          "sequential; `session.run` timed with `performance.now()` (includes the binding's "
          "small per-call overhead)",
          f"- ONNX: exported from tools/mobilevit_ref.py by torch {meta['torch_version']} "
          f"`torch.onnx.export`, opset {args.opset}, input NCHW [1,C,H,W] float32",
          f"- Runs: {args.rounds} rounds x {args.runs} timed runs per side "
          f"(= {args.rounds * args.runs} per side), each round a fresh process per side with "
          f"{args.warmup} warm-up runs; the sides alternate within each round and their order "
          "rotates, so noise from other processes hits all of them alike. Times are medians.",
          "- Agreement: before timing, one inference per side; the run aborts if "
          f"max|mvitc - ORT| > {args.rel_tol} x max|logit| (for every mvitc thread count; the "
          "table shows the worst). 'torch f64' is the reference's float64 forward pass.",
          "- MACs: from the generated header's banner (multiply-accumulates of convs, linears "
          "and both attention matmuls), checked against a count on the PyTorch reference. "
          "GMAC/s = MACs / median time.",
          ((f"- Peak: one core's AVX512-VNNI multiply-accumulate throughput, {peak1:.1f} GMAC/s "
            f"({meta['peak_source']} znni: 24 independent chains of 512-bit vpdpbusd, 64 MACs "
            "each, best of 5), the ceiling of the avx512 int8 GEMM built with -mavx512vnni. % "
            "peak is against one core. 'ORT x 0.3 needs' is the % of that peak which a model's "
            "MACs would need to run in 0.3x ORT's 1-thread median (the issue's goal)."
            if getattr(args, "znni", False) else
            f"- Peak: one core's AVX-VNNI multiply-accumulate throughput, {peak1:.1f} GMAC/s "
            f"({meta['peak_source']} vnni: 10 independent chains of vpdpbusd, 32 MACs each, "
            "best of 5), the ceiling of the int8 GEMM built with AVX-VNNI. % peak is against "
            "one core. 'ORT x 0.35 needs' is the % of that peak which a model's MACs would "
            "need to run in 0.35x ORT's 1-thread median (the issue's goal)."
            if getattr(args, "avxvnni", False) else
            f"- Peak: one core's int8 multiply-accumulate throughput, {peak1:.1f} GMAC/s "
            f"({meta['peak_source']} int8: 10 independent chains of vpmaddwd + vpaddd, 16 MACs "
            "per pair, best of 5), the ceiling of every AVX2 int8 kernel here (AVX2 has no "
            "exact 8-bit dot product: vpmaddubsw saturates; AVX-VNNI's vpdpbusd is, see "
            "docs/benchmarks-int8-avxvnni.md). % peak is against one core. 'ORT x 0.35 needs' "
            "is the % of that peak which a model's MACs would need to run in 0.35x ORT's "
            "1-thread median (the issue's goal); above 100 % no AVX2 schedule can reach it.")
           if args.precision == "int8" else
           (f"- Peak: one core's fp32 512-bit FMA throughput, {peak1:.1f} GMAC/s "
            f"({meta['peak_source']} zmm: 24 independent chains of 512-bit FMAs, 16 MACs each, "
            "best of 5), the ceiling of the avx512 target's kernels; ORT's AVX-512 kernels share "
            "it. % peak is against one core. 'ORT x 0.6 needs' is the % of that peak which a "
            "model's MACs would need to run in 0.6x ORT's 1-thread median (the issue's goal); "
            "above 100 % no direct-convolution schedule can reach it.")
           if args.target == "avx512" else
           f"- Peak: one core's fp32 FMA throughput, {peak1:.1f} GMAC/s ({meta['peak_source']}: "
           "12 independent chains of 256-bit FMAs, best of 5); that is "
           f"{MAC_PER_CYCLE} MAC/cycle (2 FMA pipes x 8 floats) at {peak1 / MAC_PER_CYCLE:.2f} GHz, "
           "the boost clock the core really runs at ('cpu MHz' in /proc/cpuinfo shows "
           f"{meta['cpu'].get('mhz') or '?'}). % peak is against one core. 'ORT x 0.6 needs' is "
           "the % of that peak which a model's MACs would need to run in 0.6x ORT's 1-thread "
           "median (the issue's goal); above 100 % no direct-convolution schedule can reach it."),
          "- Arena lower bound: from `mvitc compile --dump-ir`, the largest sum of one layer's "
          "input and output bytes among values that live in the arena (the caller's image and "
          "logits are not in the arena). 'Live peak' is the larger bound that also counts every "
          "earlier value still needed later (e.g. a MobileViT block's shortcut), for this layer "
          "order and assuming no layer writes over its own input.",
          "- Noise: 'other CPUs busy' is the average number of CPUs that processes other than "
          "the benchmark's own used while a model was timed (from /proc/stat minus the "
          "benchmark's children), 'CPUs stolen' the hypervisor's steal time; on this 2-CPU "
          "machine anything well above 0 means the medians are inflated, the 2-thread ones most.",
          "", "This is a shared 2-core virtual machine and timings are noisy. The ratios compare "
          "sides measured in the same run under the same noise; absolute milliseconds from "
          "different runs are not comparable.", "",
          "## Results", ""]
    sides = list(results[0]["times"]) if results else []
    names = {s: f"{s.split('-')[0].replace('ort', 'ORT')} {s.split('-')[1]}T ms" for s in sides}
    L += ["| model | input | MACs | " + " | ".join(names[s] for s in sides)
          + f" | mvitc/ORT(1T) | mvitc 1T GMAC/s | mvitc 1T % peak | ORT x {goal_ratio(args)} needs "
          "| arena bytes | arena lower bound (layer / live peak) |",
          "|---|---|---:|" + "---:|" * len(sides) + "---:|---:|---:|---:|---:|---:|"]
    for r in results:
        med = {s: statistics.median(t) for s, t in r["times"].items()}
        h, w, c = r["hwc"]
        mv, o1 = med.get("mvitc-1"), med.get("ort-1")
        gmacs = r["macs"] / (mv * 1e-3) / 1e9 if mv else None
        L.append("| " + " | ".join(
            [LABELS[r["cfg"]], f"{h}x{w}x{c}", f"{r['macs'] / 1e6:.1f} M"]
            + [fmt_ms(med[s]) for s in sides]
            + [f"{mv / o1:.2f}" if mv and o1 else "—",
               f"{gmacs:.2f}" if gmacs else "—",
               f"{100 * gmacs / peak1:.1f} %" if gmacs else "—",
               f"{100 * r['macs'] / (goal_ratio(args) * o1 * 1e-3) / 1e9 / peak1:.0f} % peak"
               if o1 else "—",
               f"{r['arena']:,}",
               f"{r['arena_layer_bound']:,} / {r['arena_live_bound']:,}"]) + " |")
    L += resize_cost_lines(results)
    L += ["", "Spread (10th–90th percentile, ms), output agreement (one inference, before "
          "timing) and load from other processes while timing:", "",
          "| model | input | " + " | ".join(names[s][:-3] for s in sides)
          + " | max\\|mvitc−ORT\\| | max\\|mvitc−torch f64\\| | max\\|ORT−torch f64\\| "
          "| max\\|logit\\| | other CPUs busy | CPUs stolen |",
          "|---|---|" + "---:|" * len(sides) + "---:|---:|---:|---:|---:|---:|"]
    for r in results:
        h, w, c = r["hwc"]
        a = r["agree"]
        L.append("| " + " | ".join(
            [LABELS[r["cfg"]], f"{h}x{w}x{c}"]
            + [f"{fmt_ms(pct(r['times'][s], 10))}–{fmt_ms(pct(r['times'][s], 90))}"
               for s in sides]
            + [f"{a['mvitc_vs_ort']:.2g}", f"{a['mvitc_vs_torch64']:.2g}",
               f"{a['ort_vs_torch64']:.2g}", f"{a['max_abs_logit']:.3g}",
               f"{r['load']['other_cpus']:.2f}" if "load" in r else "?",
               f"{r['load']['steal_cpus']:.2f}" if "load" in r else "?"]) + " |")
    L += ["", "## Reproduce", "", "```sh",
          "cmake -S . -B build && cmake --build build -j2",
          "(cd tools/bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)",
          meta["command"].strip(), "```", "",
          "Raw per-run times: `" + (os.path.relpath(meta["json"], ROOT)
                                    if meta["json"].startswith(ROOT + os.sep) else meta["json"])
          + "` (not committed).", ""]
    with open(path, "w") as f:
        f.write("\n".join(L))


# ---------------------------------------------------------------------------------------------
# Main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help=f"comma-separated subset of {','.join(CONFIGS)}")
    ap.add_argument("--target", default="generic", help="mvitc --target (generic, later avx2)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "int8"],
                    help="mvitc --precision (int8 is compared with ORT's fp32 model)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10, help="timed runs per side per round")
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs per side per round")
    ap.add_argument("--ort-threads", default="1,2", help="ORT intra-op thread counts")
    ap.add_argument("--mvitc-threads", default="1",
                    help="mvitc thread counts; N > 1 times net_run_parallel on runtime/mvrt_pool")
    ap.add_argument("--peak", type=float, default=0.0,
                    help="one core's fp32 FMA peak in GMAC/s for %% peak (default: measured by "
                         "tools/bench/fma_peak.c)")
    ap.add_argument("--cc", default=os.environ.get("CC", "clang"),
                    help="C compiler for the generated code (default $CC or clang, the compiler "
                         "of Xcode and the Android NDK)")
    ap.add_argument("--cflags", default=os.environ.get("CFLAGS", "-O3 -march=haswell"),
                    help="flags for bench_main.c + net.c (default $CFLAGS or -O3 -march=haswell)")
    ap.add_argument("--mvitc", default=os.path.join(ROOT, "build", "mvitc"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--doc", default=None,
                    help="markdown report to write ('' for none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--opset", type=int, default=13, choices=[13, 14])
    ap.add_argument("--rel-tol", type=float, default=1e-3,
                    help="abort if max|mvitc-ORT| > REL_TOL x max|logit|")
    ap.add_argument("--smoke", action="store_true",
                    help="pipeline check: xxs64 only, 1 round x 3 runs, 1 warm-up (overrides "
                         "--configs/--rounds/--runs/--warmup); the doc is marked SMOKE RUN")
    ap.add_argument("--note", default="",
                    help="a sentence put at the top of the doc (e.g. what else ran meanwhile)")
    ap.add_argument("--report-from", metavar="RESULTS_JSON",
                    help="time nothing: rewrite --doc from a run's results.json (its settings, "
                         "its numbers) plus --note")
    args = ap.parse_args()
    if args.report_from:
        with open(args.report_from) as f:
            saved = json.load(f)
        run_args = argparse.Namespace(**saved["args"])
        if args.doc is None:
            args.doc = default_doc(run_args)
        run_args.note = args.note or getattr(run_args, "note", "")
        if not args.doc:
            ap.error("--report-from writes a doc: give --doc PATH (or leave --doc out)")
        write_doc(args.doc, saved["results"], saved["meta"], run_args)
        print(f"wrote {args.doc} from {args.report_from}")
        return
    args.avxvnni = args.precision == "int8" and builds_avxvnni(args)
    args.znni = args.avxvnni and args.target == "avx512" and builds_avx512vnni(args)
    if args.doc is None:
        args.doc = default_doc(args)
    if args.smoke:
        args.configs, args.rounds, args.runs, args.warmup = "xxs64", 1, 3, 1
    args.configs = [c for c in args.configs.split(",") if c]
    for c in args.configs:
        if c not in CONFIGS:
            ap.error(f"unknown config '{c}' (known: {', '.join(CONFIGS)})")
    if not os.access(args.mvitc, os.X_OK):
        ap.error(f"{args.mvitc} not found: build it first (cmake --build build)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        ap.error("onnxruntime-node missing: "
                 "(cd tools/bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)")
    args.mvitc_threads = [int(t) for t in args.mvitc_threads.split(",") if t]
    sides = ([f"ort-{t}" for t in args.ort_threads.split(",") if t]
             + [f"mvitc-{t}" for t in args.mvitc_threads])

    cpu = machine_info()
    os.makedirs(args.work, exist_ok=True)
    if args.peak:
        peak, peak_source = args.peak, "--peak"
    else:
        peak, peak_source = measure_fma_peak(args), "measured by tools/bench/fma_peak.c"
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "peak_gmacs": peak, "peak_source": peak_source, "load_before": loadavg(),
        "cc_version": tool_version([args.cc, "--version"]),
        "node_version": tool_version(["node", "--version"]),
        "torch_version": run([PY, "-c", "import torch; print(torch.__version__)"])[0].strip(),
        "command": shlex.join(["/usr/bin/python3", "tools/bench/bench.py", *sys.argv[1:]]),
        "json": os.path.join(args.work, "results.json"),
    }
    with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
        meta["ort_version"] = json.load(f)["version"]

    results = []
    t0 = time.time()
    for cfg in args.configs:
        p = prepare(cfg, args, args.work)
        p["agree"] = check_agreement(p, args)
        p["times"] = bench_config(p, sides, args)
        results.append(p)
        with open(meta["json"], "w") as f:  # after each config, so a failure keeps the rest
            json.dump({"meta": meta, "args": vars(args), "results": results}, f, indent=1)
    meta["load_after"] = loadavg()
    meta["seconds"] = round(time.time() - t0, 1)
    with open(meta["json"], "w") as f:
        json.dump({"meta": meta, "args": vars(args), "results": results}, f, indent=1)
    peak1 = peak
    print(f"{'config':8} {'MACs':>8} " + " ".join(f"{s:>10}" for s in sides)
          + f" {'mvitc/ORT1':>10} {'GMAC/s':>7} {'%peak':>6} {'arena':>10} {'bound':>10}")
    for r in results:
        med = {s: statistics.median(t) for s, t in r["times"].items()}
        mv = med.get("mvitc-1", med[sides[-1]])
        g = r["macs"] / (mv * 1e-3) / 1e9
        ratio = mv / med["ort-1"] if "ort-1" in med else float("nan")
        print(f"{r['cfg']:8} {r['macs'] / 1e6:7.1f}M " + " ".join(f"{med[s]:10.3f}" for s in sides)
              + f" {ratio:10.2f} {g:7.2f} {100 * g / peak1:5.1f}% {r['arena']:10d} "
              f"{r['arena_layer_bound']:10d}")
    print(f"(ms, medians of {args.rounds * args.runs} runs; peak {peak1:.1f} GMAC/s/core "
          f"({peak_source}); {meta['seconds']} s; raw times {meta['json']})")
    if args.doc:
        os.makedirs(os.path.dirname(os.path.abspath(args.doc)), exist_ok=True)
        write_doc(args.doc, results, meta, args)
        print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
