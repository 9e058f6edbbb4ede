#!/usr/bin/env python3
"""Check benchtop's OPT against transformers on a random OPT that transformers saved.

Run on a machine with PyTorch and transformers (the GPU machine), with a
benchtop binary built elsewhere:

    python3 scripts/compare_transformers.py --benchtop bin/benchtop --device cpu

For each variant (pre-LN like opt-125m; post-LN with project_in/out like
opt-350m) it builds a small random OPTForCausalLM, saves it with
save_pretrained (safetensors), runs `benchtop logits` on the folder and
compares the last-position logits and 32 greedy tokens with transformers'
own. Exits non-zero when a variant does not match.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from transformers import OPTConfig, OPTForCausalLM

VARIANTS = {
    "pre-ln (opt-125m layout)": dict(do_layer_norm_before=True, word_embed_proj_dim=128),
    "post-ln + project_in/out (opt-350m layout)": dict(do_layer_norm_before=False, word_embed_proj_dim=64),
}


def build(variant, seed, dtype):
    torch.manual_seed(seed)
    cfg = OPTConfig(vocab_size=1000, hidden_size=128, num_hidden_layers=3, num_attention_heads=4, ffn_dim=256,
                    max_position_embeddings=512, bos_token_id=2, eos_token_id=2, pad_token_id=1, **VARIANTS[variant])
    model = OPTForCausalLM(cfg).eval()
    with torch.no_grad():
        # Random biases and layer-norm parameters too, so every weight matters.
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.05)
            elif "layer_norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0, 0.08)
    return model.to(dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--benchtop", default="bin/benchtop")
    ap.add_argument("--device", default="cpu", help="benchtop's --device")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--tol", type=float, default=None, help="max abs logit difference allowed")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    tol = args.tol if args.tol is not None else {"float32": 1e-3, "float16": 5e-2, "bfloat16": 2e-1}[args.dtype]
    results, ok = [], True
    for i, variant in enumerate(VARIANTS):
        model = build(variant, seed=i, dtype=dtype)
        g = torch.Generator().manual_seed(100 + i)
        ids = torch.randint(3, 1000, (1, 12), generator=g)
        with torch.no_grad():
            ref_logits = model(ids.to(model.device)).logits[0, -1].float()
            ref_tokens = model.generate(ids, max_new_tokens=args.steps, min_new_tokens=args.steps, do_sample=False,
                                        pad_token_id=1)[0, ids.shape[1]:].tolist()
        with tempfile.TemporaryDirectory() as d:
            model.save_pretrained(d, safe_serialization=True)
            out = os.path.join(d, "benchtop.json")
            cmd = [args.benchtop, "logits", "--model", d, "--device", args.device, "--ids",
                   ",".join(str(t) for t in ids[0].tolist()), "--steps", str(args.steps), "--json", out]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{variant}: benchtop failed ({proc.returncode}): {proc.stderr}", file=sys.stderr)
                return 1
            got = json.load(open(out))
        diff = (torch.tensor(got["last_logits"]) - ref_logits).abs().max().item()
        same = got["greedy"] == ref_tokens
        first_diff = next((k for k, (a, b) in enumerate(zip(got["greedy"], ref_tokens)) if a != b), None)
        row = dict(variant=variant, dtype=args.dtype, backend=got["backend"], device=got["device"],
                   max_abs_logit_diff=diff, logit_scale=ref_logits.abs().max().item(), tokens_equal=same,
                   first_token_mismatch=first_diff, steps=args.steps)
        results.append(row)
        ok &= diff <= tol and same
        print(f"{variant:45s} {args.dtype:8s} {got['backend']:4s} max|Δlogit| {diff:.3e} (scale {row['logit_scale']:.2f}, tol {tol:g})"
              f"  greedy {args.steps} tokens equal: {same}" + ("" if same else f" (first mismatch at {first_diff})"))
    if args.out:
        json.dump(results, open(args.out, "w"), indent=2)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
