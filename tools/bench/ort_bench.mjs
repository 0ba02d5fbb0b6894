// ONNX Runtime side of the mvitc benchmark: loads one .onnx model in onnxruntime-node (CPU),
// runs `--warmup` untimed inferences, then `--runs` timed ones, and prints one JSON object:
// {"side":"ort","threads":T,"times_ms":[...],...}. Optionally writes the logits (float32) so
// run.sh can check them against mvitc's. Session options: graph optimisation 'all',
// intra-op threads T (1 or 2), inter-op threads 1, sequential execution.
//
//   node tools/bench/ort_bench.mjs --model m.onnx --input x_nchw.f32 --shape 1,3,256,256
//        [--threads 1] [--warmup 3] [--runs 10] [--logits-out ort_logits.f32]
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
    const a = { threads: 1, warmup: 3, runs: 10 };
    for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
        if (i + 1 >= argv.length) throw new Error(`missing value for ${argv[i]}`);
        a[k] = argv[i + 1];
    }
    for (const k of ['model', 'input', 'shape'])
        if (!a[k]) throw new Error(`--${k} is required`);
    a.threads = Number(a.threads);
    a.warmup = Number(a.warmup);
    a.runs = Number(a.runs);
    a.shape = a.shape.split(',').map(Number);
    return a;
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const session = await ort.InferenceSession.create(a.model, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: a.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
    });
    const buf = readFileSync(a.input);
    const n = a.shape.reduce((x, y) => x * y, 1);
    if (buf.length !== 4 * n)
        throw new Error(`${a.input}: ${buf.length} bytes, expected ${4 * n} for ${a.shape}`);
    // copy into a fresh, aligned Float32Array (a Buffer's offset need not be 4-aligned)
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(buf);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, a.shape) };
    const outName = session.outputNames[0];

    let out;
    for (let i = 0; i < a.warmup; i++)
        out = await session.run(feeds);
    const times = [];
    for (let i = 0; i < a.runs; i++) {
        const t0 = performance.now();
        out = await session.run(feeds);
        times.push(performance.now() - t0);
    }
    if (!out)
        out = await session.run(feeds);
    if (a.logitsOut) {
        const l = out[outName].data;
        writeFileSync(a.logitsOut, Buffer.from(l.buffer, l.byteOffset, l.byteLength));
    }
    console.log(JSON.stringify({
        side: 'ort',
        ort_version: ort.env.versions.node,
        threads: a.threads,
        warmup: a.warmup,
        times_ms: times,
    }));
}

main().catch((e) => {
    console.error(`ort_bench.mjs: error: ${e.message}`);
    process.exit(1);
});
