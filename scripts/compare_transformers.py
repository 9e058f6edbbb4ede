#!/usr/bin/env python3
"""Check benchtop's models against transformers on random models that transformers saved.

Run on a machine with PyTorch and transformers (the GPU machine), with a
benchtop binary built elsewhere, in one call:

    python3 scripts/compare_transformers.py --benchtop bin/benchtop

For each variant — OPT (opt-125m's pre-LN layout, opt-350m's post-LN with
project_in/out, head size 80 as in opt-2.7b), Llama (grouped KV heads, tied
embeddings, llama3 rope scaling; multi-head, untied, attention and MLP
biases), Mistral, Qwen2 (q/k/v biases, untied) and Qwen3 (q/k norms, a
head_dim that is not hidden/heads) — it builds a small random model with
transformers, saves it with save_pretrained (safetensors) in fp32 and in
bf16 (OPT: fp16), and runs `benchtop logits` on the folder on each device:

  - cpu:  benchtop computes in fp32; the reference is transformers in fp32.
  - cuda: benchtop computes in the checkpoint's dtype (fp32 checkpoints in
          fp16, as vLLM's --dtype auto); the reference is transformers on
          the GPU in that same dtype.

It prints a table of the max |Δ logit| at the last prompt position (beside
transformers' own 16-bit noise: its 16-bit logits against its fp32 ones)
and whether 32 greedy tokens are equal. Greedy tokens may part only at a
near-tie: where they part, transformers' fp32 logits of the two tokens at
that prefix must be within the near-tie margin. Exits non-zero when a row
fails. --device cpu or cuda runs one device only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from transformers import (AutoModelForCausalLM, LlamaConfig, MistralConfig, OPTConfig, Qwen2Config,
                          Qwen3Config)

VOCAB = 1000
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}
V5 = int(transformers.__version__.split(".")[0]) >= 5
DTYPE = "dtype" if V5 else "torch_dtype"  # the keyword from_pretrained takes


def rope(theta, scaling=None):
    """Rotary settings as this transformers takes them: rope_parameters (5.x) or rope_theta + rope_scaling."""
    if V5:
        return {"rope_parameters": dict(scaling or {"rope_type": "default"}, rope_theta=theta)}
    return dict(rope_theta=theta, **({"rope_scaling": dict(scaling)} if scaling else {}))


def variants():
    """name → (family, config). Small shapes, every path of each family."""
    common = dict(vocab_size=VOCAB, num_hidden_layers=3, max_position_embeddings=512)
    llama = dict(common, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)
    qwen = dict(common, rms_norm_eps=1e-6, bos_token_id=3, eos_token_id=4, use_sliding_window=False)
    opt = dict(common, bos_token_id=2, eos_token_id=2, pad_token_id=1)
    return {
        "opt pre-LN (opt-125m layout)": ("opt", OPTConfig(
            hidden_size=128, num_attention_heads=4, ffn_dim=256, do_layer_norm_before=True, word_embed_proj_dim=128, **opt)),
        "opt post-LN + project_in/out (opt-350m)": ("opt", OPTConfig(
            hidden_size=128, num_attention_heads=4, ffn_dim=256, do_layer_norm_before=False, word_embed_proj_dim=64, **opt)),
        "opt head size 80 (opt-2.7b's)": ("opt", OPTConfig(
            hidden_size=160, num_attention_heads=2, ffn_dim=320, do_layer_norm_before=True, word_embed_proj_dim=160, **opt)),
        "llama GQA 8/2, tied, llama3 rope": ("llama", LlamaConfig(
            hidden_size=128, intermediate_size=256, num_attention_heads=8, num_key_value_heads=2, head_dim=16,
            tie_word_embeddings=True, **rope(10000.0, LLAMA3), **llama)),
        "llama MHA, untied, attn+mlp biases": ("llama", LlamaConfig(
            hidden_size=128, intermediate_size=256, num_attention_heads=4, num_key_value_heads=4,
            tie_word_embeddings=False, attention_bias=True, mlp_bias=True, **rope(500000.0), **llama)),
        "mistral GQA 4/1": ("llama", MistralConfig(
            hidden_size=128, intermediate_size=256, num_attention_heads=4, num_key_value_heads=1, sliding_window=None,
            tie_word_embeddings=False, **rope(10000.0), **llama)),
        "qwen2 GQA 4/2, q/k/v biases, untied": ("llama", Qwen2Config(
            hidden_size=128, intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
            tie_word_embeddings=False, **rope(1000000.0), **qwen)),
        "qwen3 GQA 4/2, q/k norm, head_dim 64, tied": ("llama", Qwen3Config(
            hidden_size=128, intermediate_size=256, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
            tie_word_embeddings=True, **rope(1000000.0), **qwen)),
    }


def build(cfg, seed):
    """A random model of cfg in fp32 whose every weight matters."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", **{DTYPE: torch.float32}).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.05)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0, 0.08)
    return model


def load(folder, dtype, device):
    m = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", **{DTYPE: dtype})
    return m.to(device).eval()


@torch.no_grad()
def last_logits(model, ids):
    t = torch.tensor([ids], device=model.device)
    return model(t).logits[0, -1].float().cpu()


@torch.no_grad()
def greedy(model, ids, steps):
    """Greedy tokens by full forwards (no generation config: EOS neither stops nor is suppressed)."""
    seq = list(ids)
    for _ in range(steps):
        seq.append(int(last_logits(model, seq).argmax()))
    return seq[len(ids):]


def run_benchtop(args, folder, device, ids):
    out = os.path.join(folder, f"benchtop-{device}.json")
    cmd = [args.benchtop, "logits", "--model", folder, "--device", device, "--ids", ",".join(map(str, ids)),
           "--steps", str(args.steps), "--json", out, "--max-num-seqs", "4", "--max-num-batched-tokens", "256",
           "--cpu-memory", "1", "--gpu-memory-utilization", "0.1"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
    return json.load(open(out)), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchtop", default="bin/benchtop")
    ap.add_argument("--device", default="all", choices=["all", "cpu", "cuda"], help="benchtop's --device (all: both)")
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                    help="checkpoint dtypes (auto: fp32 and bf16, OPT fp32 and fp16)")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--only", default="", help="run the variants whose name contains this")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        print("no CUDA device: the cuda rows are skipped", file=sys.stderr)
        devices.remove("cuda")
    tol = {"float32": 1e-3, "float16": 5e-2, "bfloat16": 2e-1}
    near_tie = {"float32": 1e-4, "float16": 0.05, "bfloat16": 0.2}
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, "
          f"{torch.cuda.get_device_name() if 'cuda' in devices else 'CPU only'}")
    header = (f"{'model':44s} {'saved':8s} {'device':6s} {'compute':8s} {'max|Δlogit|':>11s} {'HF 16-bit':>10s} "
              f"{'scale':>6s}  {args.steps} greedy tokens")
    print(header)
    print("-" * len(header))
    results, ok = [], True
    for i, (name, (family, cfg)) in enumerate(variants().items()):
        if args.only and args.only not in name:
            continue
        saves = [args.dtype] if args.dtype != "auto" else ["float32", "float16" if family == "opt" else "bfloat16"]
        model = build(cfg, seed=i)
        ids = torch.randint(5, VOCAB, (12,), generator=torch.Generator().manual_seed(100 + i)).tolist()
        for saved in saves:
            with tempfile.TemporaryDirectory() as folder:
                model.to(getattr(torch, saved)).save_pretrained(folder, safe_serialization=True)
                model.to(torch.float32)
                ref32 = {d: load(folder, torch.float32, d) for d in devices}
                for device in devices:
                    compute = "float32" if device == "cpu" else ("float16" if saved == "float32" else saved)
                    ref = ref32[device] if compute == "float32" else load(folder, getattr(torch, compute), device)
                    want_logits = last_logits(ref, ids)
                    want_tokens = greedy(ref, ids, args.steps)
                    noise = (want_logits - last_logits(ref32[device], ids)).abs().max().item()
                    got, err = run_benchtop(args, folder, device, ids)
                    row = dict(variant=name, saved=saved, device=device, compute=compute, steps=args.steps)
                    if err is not None:
                        row.update(error=err, passed=False)
                        print(f"{name:44s} {saved:8s} {device:6s} {compute:8s} benchtop failed: {err}")
                    else:
                        diff = (torch.tensor(got["last_logits"]) - want_logits).abs().max().item()
                        tokens = got["greedy"]
                        part = next((k for k, (a, b) in enumerate(zip(tokens, want_tokens)) if a != b), None)
                        verdict, tie_ok = "equal", True
                        if part is not None:
                            # A near-tie in fp32 at the prefix where they part?
                            l32 = last_logits(ref32[device], ids + want_tokens[:part])
                            margin = abs(l32[tokens[part]] - l32[want_tokens[part]]).item()
                            tie_ok = margin <= near_tie[compute]
                            verdict = f"part at {part} ({'near-tie' if tie_ok else 'NOT a near-tie'}: fp32 margin {margin:.3g})"
                        passed = diff <= tol[compute] and tie_ok
                        row.update(max_abs_logit_diff=diff, hf_16bit_noise=noise if compute != "float32" else None,
                                   logit_scale=want_logits.abs().max().item(), tokens_equal=part is None,
                                   first_token_mismatch=part, backend=got["backend"], device_name=got["device"],
                                   passed=passed)
                        hf = f"{noise:.2e}" if compute != "float32" else "-"
                        print(f"{name:44s} {saved:8s} {device:6s} {compute:8s} {diff:11.2e} {hf:>10s} "
                              f"{row['logit_scale']:6.2f}  {verdict}" + ("" if passed else "   FAIL"))
                    ok &= row["passed"]
                    results.append(row)
    if args.out:
        json.dump(results, open(args.out, "w"), indent=2)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
