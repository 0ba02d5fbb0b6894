#!/bin/bash
# mvitc report on the shipped model for every target x fp32/int8: the three files are
# written; the JSON parses and every build has its measurements or stated estimates (no
# empty cell in the Markdown table); the output hashes agree where they must (int8 builds
# are byte-identical across targets) and the fp32 builds stay within 1e-4 * max|logit| of the
# generic one; the per-layer times and arena blocks are there; then the HTML is opened in
# headless Chromium (tests/report_browser.sh). --resolution 64x64 is the description's own
# size written as HxW: it adds no build, and the builds must be the plain ones (net_run,
# builds/<target>-<precision>-64, int8 included).
# usage: report.sh MVITC SOURCE_DIR WORK_DIR
set -euo pipefail
mvitc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
data=/usr/share/datasets/fashion-mnist
targets=$("$mvitc" targets --tsv | cut -f1 | paste -sd,)  # every target of the registry
host_avx2=0
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then host_avx2=1
else echo "(no AVX2+FMA here: the avx2 builds are sized and estimated, not run)"; fi
host_avx512=0
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
    grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then host_avx512=1
else echo "(no AVX-512 here: the avx512 builds are sized and estimated, not run)"; fi
start=$(date +%s)
"$mvitc" report "$src/models/fmnist_xxs.yaml" --weights "$src/models/fmnist_xxs.safetensors" \
    --targets "$targets" --precision fp32,int8 --calib "$data/train-images-idx3-ubyte.gz" \
    --calib-images 200 --runs 20 --resolution 64x64 -o out
echo "mvitc report took $(($(date +%s) - start)) s"
for f in report.md report.json report.html; do
    [ -s "out/$f" ] || { echo "FAIL: out/$f missing or empty"; exit 1; }
done
ls out/.report* >/dev/null 2>&1 && { echo "FAIL: temporary files left"; exit 1; }

/usr/bin/python3 - out/report.json out/report.md "$host_avx2" "$host_avx512" "$targets" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
host_avx2 = sys.argv[3] == "1"
runs_here = {"avx2": host_avx2, "avx512": sys.argv[4] == "1"}
md = open(sys.argv[2]).read()
cells = r["cells"]
want = {(t, p) for t in sys.argv[5].split(",") for p in ("fp32", "int8")}
got = {(c["target"], c["precision"]) for c in cells}
assert got == want, f"builds {sorted(got)} != {sorted(want)}"
fails = []
for c in cells:
    name = f'{c["target"]}-{c["precision"]}'
    if (c.get("height"), c.get("width")) != (64, 64) or "resolution" in c:
        fails.append(f'{name}: input {c.get("height")}x{c.get("width")}, not the 64x64 of '
                     'the description (as "height" and "width")')
    for k in ("macs", "constant_bytes", "code_bytes", "arena_bytes", "arena_lower_bound"):
        if not c.get(k) or c[k] <= 0:
            fails.append(f"{name}: {k} = {c.get(k)}")
    if c["arena_bytes"] < c["arena_lower_bound"]:
        fails.append(f"{name}: arena below its lower bound")
    if not c["output_hash"] and runs_here.get(c["target"], True):
        fails.append(f"{name}: did not run")
    ests = [e for e in c["est_ms"] if e is not None]
    if not ests:
        fails.append(f"{name}: no llvm-mca estimate")
    if c["latency_ms"] is None and not c["latency_note"]:
        fails.append(f"{name}: neither a latency nor a note")
    if c["target"] != "neon" and c["latency_ms"] is None and c["run_note"] == "host":
        fails.append(f"{name}: ran on the host but not timed")
    layers = c["layers"]
    if not layers or sum(l["macs"] for l in layers) != c["macs"]:
        fails.append(f"{name}: layers do not add up to the MACs")
    if c["latency_ms"] is not None:
        timed = [l for l in layers if l["measured_us"] is not None]
        if len(timed) < len(layers) // 2:
            fails.append(f"{name}: only {len(timed)} of {len(layers)} layers timed")
    if not any(any(e is not None for e in l["est_us"]) for l in layers if l["macs"] > 0):
        fails.append(f"{name}: no per-layer estimate")
    if not c["blocks"] or max(b["offset"] + b["bytes"] for b in c["blocks"]) > c["arena_bytes"]:
        fails.append(f"{name}: arena blocks missing or outside the arena")
ref = {c["precision"]: c for c in cells if c["target"] == "generic"}
for c in cells:
    if c["precision"] == "int8" and c["output_hash"] and c["output_hash"] != ref["int8"]["output_hash"]:
        fails.append(f'{c["target"]}-int8: output differs from generic int8 (must be identical)')
    if c["precision"] == "fp32" and c["max_diff"] is not None and c["max_diff"] > 1e-3:
        fails.append(f'{c["target"]}-fp32: max diff {c["max_diff"]} from generic fp32')
# the default columns: no llvm-mca model that is known to be another core's (LLVM's cortex-a76,
# cortex-a78 and cortex-x1 models are Cortex-A57's, apple-a14 and apple-m4 are Cyclone's), each
# with its clock, and the host's own model, validated against the measured times
borrowed = {"cortex-a76", "cortex-a78", "cortex-x1", "apple-a14", "apple-m4"}
for core in r["cores"]:
    if core["mca_model"] in borrowed:
        fails.append(f'core {core["name"]}: timed by {core["mca_model"]}, another core\'s model')
    if not core["ghz"] or core["ghz"] <= 0:
        fails.append(f'core {core["name"]}: no clock')
hosts = [core for core in r["cores"] if core["host"]]
if len(hosts) != 1 or not r["host_ghz"] or r["host_ghz"] <= 0:
    fails.append(f"no host core with a measured clock: {hosts}, {r['host_ghz']}")
if host_avx2 and "| avx2 fp32 64\u00d764 |" not in md.split("## Estimate vs measurement on this host")[-1]:
    fails.append("the validation section has no avx2 fp32 row")
rows = [l for l in md.splitlines() if l.startswith("|")]
for l in rows:
    cols = [x.strip() for x in l.strip().strip("|").split("|")]
    if any(x == "" for x in cols):
        fails.append(f"empty cell in markdown row: {l}")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails)); sys.exit(1)
print(f"report.json: {len(cells)} builds, every one sized, run, estimated; int8 hashes equal")
EOF
# the report calibrates once for all int8 targets: its neon int8 file must be the one a
# separate mvitc compile makes (everything after the banner, which records the command)
"$mvitc" compile "$src/models/fmnist_xxs.yaml" --weights "$src/models/fmnist_xxs.safetensors" \
    --target neon --precision int8 --calib "$data/train-images-idx3-ubyte.gz" \
    --calib-images 200 --max-threads 1 --name net -o fresh 2>/dev/null
body() { sed '1,/\*\/$/d' "$1"; }
if ! cmp <(body fresh/net.c) <(body out/builds/neon-int8-64/net.c); then
    echo "FAIL: the report's neon int8 build differs from a separate compile"; exit 1
fi
echo "shared calibration: the report's neon int8 build equals a separate compile"
if [ -x /usr/bin/chromium ]; then
    "$src/tests/report_browser.sh" out/report.html browser
else
    echo "FAIL: chromium is not installed (.ci/install-deps installs it)"; exit 1
fi
