// Package model holds the model definitions the engine runs and their
// weight loading: two families, exactly as transformers defines them —
// OPT (OPTForCausalLM) and the Llama family (LlamaForCausalLM,
// MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM: RMSNorm, rotary
// embeddings with default, linear or llama3 scaling, grouped-query
// attention, SwiGLU, Qwen2's q/k/v biases, Qwen3's q/k norms) — read from
// Hugging Face folders (config.json + safetensors, single or sharded; fp32,
// fp16 or bf16); the embedded synthetic-weight presets (opt-125m,
// smollm2-135m, qwen3-0.6b, llama-3.2-1b and tiny ones for tests); and
// tokenizers (the embedded GPT-2 byte-level BPE as the presets' stand-in,
// the folder's own, or a tokenizer.json given in Options.Tokenizer, which
// must fit the vocabulary).
//
// A Prompter builds a model's prompts from text as its own tokenizer does
// with add_special_tokens=True: a tokenizer.json's post-processor decides
// the special tokens (Llama 2's <s>, Llama 3.x's <|begin_of_text|>, none
// for Qwen), else the configuration's BOS rule (which the presets' stand-in
// follows). OpenPrompter gives it without loading weights. A broken
// tokenizer file fails Open; a folder without one loads (ErrNoTokenizer is
// not an error there) and encodes no text (ErrNoTextPrompts).
//
// A model is a plain struct whose fields are weights, bound by name from a
// weight Source and run against kernels.Backend, so one definition runs on
// every backend; Model is what the engine calls. Open picks the compute
// dtype as vLLM's --dtype auto does (the checkpoint's on a GPU, fp32
// checkpoints in fp16; fp32 on the CPU backend) unless Options.DType forces
// one.
//
// Forward runs each layer as a few kernels: the per-kernel path (the
// reference, and every step of many tokens), or, on a backend with fused
// small-M GEMMs (kernels.DecodeFuser) and a step of a few tokens, the fused
// path of fused.go — norms in GEMM prologues, residual adds in epilogues,
// the greedy argmax in the LM head when every sampled row is greedy
// (Batch.Greedy).
//
// Nothing here owns a goroutine: loading and Forward run on the caller's
// (the engine's device goroutine).
package model
