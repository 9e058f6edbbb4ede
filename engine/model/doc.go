// Package model holds the model definitions the engine runs and their
// weight loading: Hugging Face folders (config.json + safetensors, single or
// sharded; fp32, fp16 or bf16) for the OPT family exactly as transformers
// defines it, the embedded synthetic-weight presets (OPT-125m's architecture
// and a tiny one for tests), and tokenizers (the embedded GPT-2 byte-level
// BPE, or the folder's own vocab.json + merges.txt or tokenizer.json).
//
// A model is a plain struct whose fields are weights, bound by name from a
// weight Source and run against kernels.Backend, so one definition runs on
// every backend.
package model
