// Package server is `benchtop serve`: benchtop's in-process engine behind
// the OpenAI-compatible HTTP API, so any client (benchtop's own remote mode
// included) can drive it, and its /metrics reads like vLLM's.
//
// Endpoints: POST /v1/completions and /v1/chat/completions, streamed
// (server-sent events, "stream": true, stream_options.include_usage and
// vLLM's continuous_usage_stats, vLLM's return_token_ids) or whole; GET
// /v1/models (the one served model, with max_model_len); GET /health (200
// while the engine runs, 503 once it stopped); GET /metrics with vLLM v1's
// metric names, types, labels and buckets (see metrics.go).
//
// Requests: a prompt is text (tokenized with the model's tokenizer,
// engine/model's Loaded.Encode, BOS first) or token ids (taken as is);
// chat messages are rendered with one fixed template ("role: content"
// lines, then "assistant:"), since benchtop's models carry none. The
// output length is max_tokens (default 16 for completions, what fits the
// context for chat) with ignore_eos; min_tokens is taken when 0 or equal to
// max_tokens (the engine cannot mask EOS for part of a request). Bad JSON,
// an unknown model, impossible lengths and unsupported options (n > 1,
// logprobs, echo, stop strings) get OpenAI's error body with a 4xx, never
// a panic; bodies are size-limited.
//
// Replicas: NewReplicas serves N data-parallel engines of one model as one
// server; each request goes to the engine serving the fewest, and /metrics
// carries each engine's series with vLLM's engine="k" label.
//
// Ownership: the caller owns the engines and their device goroutines (Run);
// New attaches the server's metrics observer to each. Each HTTP request's
// handler submits one engine request with a TokenStream and writes what
// the stream hands over, one chunk per update (one token per engine step,
// several when the handler fell behind); a client that disconnects has its
// request aborted, which frees its KV blocks.
//
// servertest starts this server over a tiny CPU engine on loopback, for the
// tests of its clients (session, experiments).
package server
