// Perplexity of a GGUF model under llama.cpp (the node-llama-cpp package's
// prebuilt CPU build), with qopt-run --ppl's convention: window w feeds
// tokens[L w .. L w + L - 1] from an empty cache and scores the next token of
// each position.
//
// Usage: node llama_cpp_ppl.mjs MODEL.gguf TOKENS.safetensors:TENSOR L WINDOWS
//        node llama_cpp_ppl.mjs --tokenize MODEL.gguf TEXT_FILE EXPECTED.safetensors:T
import fs from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = process.argv.slice(2);
const llama = await getLlama({
  gpu: false,
  build: "never",
  logLevel: LlamaLogLevel.error,
});

// The I32 tensor FILE.safetensors:TENSOR.
function readTokens(spec) {
  const split = spec.lastIndexOf(":");
  const file = fs.readFileSync(spec.slice(0, split));
  const headerLen = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLen).toString());
  const info = header[spec.slice(split + 1)];
  if (!info || info.dtype !== "I32")
    throw new Error(spec + ": no I32 tensor of that name");
  const [begin, end] = info.data_offsets;
  return new Int32Array(
    file.buffer.slice(file.byteOffset + 8 + headerLen + begin,
                      file.byteOffset + 8 + headerLen + end));
}

if (args[0] === "--tokenize") {
  // llama.cpp's tokenization of TEXT_FILE against the ids in EXPECTED.
  const model = await llama.loadModel({ modelPath: args[1] });
  const got = model.tokenize(fs.readFileSync(args[2], "utf8"));
  const want = readTokens(args[3]);
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) ++i;
  if (i === got.length && i === want.length)
    console.log("tokenization equal: " + i + " tokens");
  else
    console.log("tokenization differs at token " + i + ": llama.cpp " +
                got.slice(i, i + 5).join(" ") + ", expected " +
                Array.from(want.slice(i, i + 5)).join(" "));
  await model.dispose();
  process.exit(0);
}

const [modelPath, spec, lenArg, windowsArg] = args;
const seqLen = Number(lenArg), windows = Number(windowsArg);
const tokens = readTokens(spec);

const model = await llama.loadModel({ modelPath });
const context = await model.createContext({
  contextSize: seqLen,
  batchSize: seqLen,
  sequences: 1,
});
const sequence = context.getSequence();
let nll = 0, scored = 0;
for (let w = 0; w < windows; ++w) {
  await sequence.clearHistory();
  const input = [];
  for (let i = 0; i < seqLen; ++i)
    input.push([tokens[w * seqLen + i], { generateNext: { probabilities: true } }]);
  const out = await sequence.controlledEvaluate(input);
  for (let i = 0; i < seqLen; ++i) {
    const p = out[i]?.next?.probabilities?.get(tokens[w * seqLen + i + 1]);
    if (p === undefined) throw new Error("no probability at " + i);
    nll -= Math.log(Math.max(p, 1e-30));
    ++scored;
  }
}
console.log("tokens scored: " + scored + " in " + windows + " windows of " + seqLen);
console.log("perplexity: " + Math.exp(nll / scored).toFixed(4));
await context.dispose();
await model.dispose();
