#!/usr/bin/env python3
"""The peer: transformers' generate on the same architecture and workload.

Builds OPT-125m's architecture (OPTConfig defaults) with random fp16 weights
on the GPU and runs the tutorial's comprehensive benchmark workload — the
exact prompt token ids benchtop uses (`benchtop tokenize --workload bench`),
50 greedy tokens each, EOS ignored — in two ways: one request at a time (the
tutorial's loop) and all 100 as one left-padded batch. Also times one short
request's first token. Prints a table and, with --out, JSON.

    bin/benchtop tokenize --workload bench > /tmp/bench.json
    python3 scripts/hf_generate_bench.py --requests /tmp/bench.json
"""
import argparse
import json
import sys
import time

import torch
from transformers import OPTConfig, OPTForCausalLM


def sync_time():
    torch.cuda.synchronize()
    return time.perf_counter()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", required=True, help="JSON from `benchtop tokenize`")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    reqs = json.load(open(args.requests))["requests"]
    torch.manual_seed(0)
    cfg = OPTConfig(pad_token_id=1)
    model = OPTForCausalLM(cfg).half().cuda().eval()
    max_new = reqs[0]["max_tokens"]
    gen = dict(max_new_tokens=max_new, min_new_tokens=max_new, do_sample=False, pad_token_id=1)

    def one(ids, n=max_new):
        x = torch.tensor([ids], device="cuda")
        return model.generate(x, **{**gen, "max_new_tokens": n, "min_new_tokens": n})

    with torch.no_grad():
        for r in reqs[:3]:  # warm-up
            one(r["prompt_ids"])
        t0 = sync_time()
        for r in reqs:
            one(r["prompt_ids"])
        seq = sync_time() - t0

        width = max(len(r["prompt_ids"]) for r in reqs)
        ids = torch.ones((len(reqs), width), dtype=torch.long, device="cuda")
        mask = torch.zeros_like(ids)
        for i, r in enumerate(reqs):  # left padding, as generate wants
            p = r["prompt_ids"]
            ids[i, width - len(p):] = torch.tensor(p)
            mask[i, width - len(p):] = 1
        model.generate(ids, attention_mask=mask, **gen)  # warm-up
        t0 = sync_time()
        out = model.generate(ids, attention_mask=mask, **gen)
        batched = sync_time() - t0
        assert out.shape[1] - width == max_new

        ttfts = []
        for _ in range(10):
            t0 = sync_time()
            one(reqs[0]["prompt_ids"], 1)
            ttfts.append(sync_time() - t0)
        ttfts.sort()
        lat = []
        for _ in range(3):
            t0 = sync_time()
            one(reqs[0]["prompt_ids"], 100)
            lat.append(sync_time() - t0)
        lat.sort()

    tokens = len(reqs) * max_new
    res = {
        "device": torch.cuda.get_device_name(), "transformers": __import__("transformers").__version__,
        "torch": torch.__version__, "requests": len(reqs), "output_tokens": tokens,
        "sequential_s": seq, "sequential_output_tps": tokens / seq,
        "batched_s": batched, "batched_output_tps": tokens / batched,
        "ttft_one_token_ms_p50": 1e3 * ttfts[len(ttfts) // 2],
        "latency_100_tokens_ms_p50": 1e3 * lat[len(lat) // 2],
    }
    print(f"transformers {res['transformers']} generate on {res['device']} (fp16, OPT-125m architecture, random weights)")
    print(f"  one request at a time : {res['sequential_output_tps']:10.0f} output tok/s ({seq:.2f} s for {tokens} tokens)")
    print(f"  one batch of {len(reqs):3d}      : {res['batched_output_tps']:10.0f} output tok/s ({batched:.3f} s)")
    print(f"  first token, 1 request: {res['ttft_one_token_ms_p50']:10.2f} ms (p50 of 10)")
    print(f"  100 tokens, 1 request : {res['latency_100_tokens_ms_p50']:10.2f} ms (p50 of 3)")
    if args.out:
        json.dump(res, open(args.out, "w"), indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
