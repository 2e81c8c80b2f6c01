#!/usr/bin/env python3
"""transformers' bf16 baseline for the end-to-end benchmark (gpu-bench.sh).

  torch-e2e-bench.py CHECKPOINT_DIR [--prefill 2048] [--batches 1,8,32]
                     [--prompt 128] [--new-tokens 64] [--no-compile] > OUT.json

Loads the checkpoint with transformers (LlamaForCausalLM, bf16, on the GPU)
and measures, like `qopt-run --bench` does for qopt:

  prefill  one forward pass over `--prefill` random tokens (all logits, as
           qopt's prefill computes them), mean of 3 after a warm-up
  copy     the device-to-device copy bandwidth (1 GiB, read + write)
  decode   `generate` with the static cache (greedy, exactly `--new-tokens`
           tokens) after a `--prompt`-token prompt, for each batch size,
           under torch.compile (mode reduce-overhead: CUDA graphs) unless
           --no-compile; decode tokens/s = batch * (new - 1) / (time of
           `new` tokens - time of 1 token), so prefill and the first token
           (and compilation: everything runs once before it is timed) are
           left out. The compilation is generate's own: with a static
           cache, generate compiles the decoding forward (its
           `compile_config`: fullgraph, mode reduce-overhead) and takes
           care of the CUDA graphs' outputs, which a forward wrapped in
           torch.compile by hand does not (its outputs are overwritten by
           the next replay)

Prints one JSON object; a batch whose compilation or run fails is reported
with its error instead of numbers.
"""
import argparse
import json
import sys
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("--prefill", type=int, default=2048)
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--prompt", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--no-compile", action="store_true")
    a = p.parse_args()

    import transformers
    from transformers import AutoModelForCausalLM

    out = {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "compile": not a.no_compile,
    }
    # The copy bandwidth (read + write of 1 GiB), the roofline's bandwidth.
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    dst.copy_(src)
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        dst.copy_(src)
    end.record()
    end.synchronize()
    out["copy_tb_s"] = 2 * 20 * (1 << 30) / (start.elapsed_time(end) * 1e9)
    del src, dst
    t0 = time.time()
    model = AutoModelForCausalLM.from_pretrained(
        a.checkpoint, dtype=torch.bfloat16, device_map="cuda"
    )
    model.eval()
    torch.cuda.synchronize()
    out["load_s"] = time.time() - t0
    vocab = model.config.vocab_size
    gen = torch.Generator(device="cuda").manual_seed(0)

    def rand_ids(b, s):
        return torch.randint(0, vocab, (b, s), device="cuda", generator=gen)

    # Prefill: eager forward (one pass; torch.compile would add minutes of
    # compilation for one call).
    ids = rand_ids(1, a.prefill)
    with torch.no_grad():
        model(ids)
        torch.cuda.synchronize()
        times = []
        for _ in range(3):
            t = time.time()
            model(ids)
            torch.cuda.synchronize()
            times.append(time.time() - t)
    ms = sum(times) / len(times) * 1000.0
    out["prefill"] = {"tokens": a.prefill, "ms": ms,
                      "tokens_per_s": a.prefill * 1000.0 / ms}

    from transformers import CompileConfig

    gen_args = {"cache_implementation": "static"}
    if a.no_compile:
        gen_args["disable_compile"] = True
    else:
        gen_args["compile_config"] = CompileConfig(
            fullgraph=True, mode="reduce-overhead")
    out["decode"] = []
    for b in [int(x) for x in a.batches.split(",") if x]:
        entry = {"batch": b}
        try:
            prompt = rand_ids(b, a.prompt)

            def run(n):
                torch.cuda.synchronize()
                t = time.time()
                with torch.no_grad():
                    model.generate(
                        prompt, max_new_tokens=n, min_new_tokens=n,
                        do_sample=False, pad_token_id=0, **gen_args)
                torch.cuda.synchronize()
                return time.time() - t

            t = time.time()
            run(a.new_tokens)  # compiles (prefill and decode shapes)
            entry["warmup_s"] = time.time() - t
            # generate keeps its compiled forward here (transformers 4.48+).
            entry["compiled"] = getattr(model, "_compiled_call",
                                        None) is not None
            run(a.new_tokens)
            one = min(run(1) for _ in range(2))
            full = min(run(a.new_tokens) for _ in range(2))
            step = (full - one) / (a.new_tokens - 1)
            entry["ms_per_step"] = step * 1000.0
            entry["tokens_per_s"] = b / step
        except Exception as e:  # reported, not fatal: the other batches run
            entry["error"] = "%s: %s" % (type(e).__name__, str(e)[:300])
        out["decode"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
