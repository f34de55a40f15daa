// ort_outputs.js MODEL.onnx X.npy OUT_PREFIX: every output of MODEL on X through ONNX Runtime
// with its graph optimizations off (what the file means, op by op: its fusions can change
// results, e.g. fusing a Pad into a ceil_mode AveragePool), written as raw float32 to
// OUT_PREFIX.<k>.bin, and the output shapes printed one per line. A reference for the
// generators in tools/gen (setup: ../shared/anchors/ort/README.md; NODE_PATH=<cache>/node_modules).
const ort = require('onnxruntime-node'); const fs = require('fs'); const path = require('path');
const anchor = process.env.SPARQ_ORT_ANCHOR || path.join(__dirname, '..', '..', '..', 'shared', 'anchors', 'ort');
const readNpy = require(path.join(anchor, 'npy.js'));
(async () => {
  const [model, xpath, prefix] = process.argv.slice(2);
  const {shape, data} = readNpy(xpath);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled',
    logSeverityLevel: 3});
  const o = await s.run({[s.inputNames[0]]: new ort.Tensor('float32', data, shape)});
  s.outputNames.forEach((n, k) => {
    fs.writeFileSync(`${prefix}.${k}.bin`, Buffer.from(o[n].data.buffer, o[n].data.byteOffset, o[n].data.byteLength));
    console.log(o[n].dims.join(' '));
  });
})().catch(e => { console.error('ort_outputs.js: ' + e.message); process.exit(1); });
