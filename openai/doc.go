// Package openai is benchtop's client for OpenAI-compatible inference servers
// (vLLM, SGLang, TGI, llama.cpp, benchtop serve): it streams one request at
// a time over plain net/http and times every chunk on the monotonic clock.
//
// What is measured at the client, per request (Result.Timing): the start
// (before connecting: the client-side arrival), the request written, the
// response headers, the chat role chunk, the first chunk that carries
// output (TTFT's end: not the role chunk), every content chunk with the
// number of tokens it carries, the usage chunk, and the end. Requests go to
// /v1/completions or /v1/chat/completions with "stream": true and
// "stream_options": {"include_usage": true}; the output length is held with
// max_tokens plus vLLM's ignore_eos and min_tokens when set.
//
// Tokens per chunk, without a tokenizer: a chunk's token_ids when the server
// sends them (vLLM's return_token_ids), else the growth of the server's
// running usage when it sends one on every chunk (vLLM's
// continuous_usage_stats, TGI's last chunk), else one token per choice
// carrying text (vLLM sends one chunk per engine step per request). The
// total is then reconciled with the usage chunk: Result.OutputTokens is the
// server's completion_tokens when it sent them. A consumer that splits a
// chunk's gap over its k tokens gets k and the time in each EvContent event.
//
// Failures are results, never panics or hangs: every request ends with a
// Result whose Err has a Kind (HTTP 4xx, 429, 5xx, connect, a drop
// mid-stream, a timeout, an error event after HTTP 200, a malformed chunk,
// an over-long line or body, a cancelled context) and the timing measured up
// to the failure. A watchdog timer bounds the wait for headers, for the
// first chunk and for every gap after it; lines and bodies have size limits.
//
// The API key comes from an environment variable named in Options; it is
// held in a closure (no printing of a Client shows it) and never enters an
// error.
//
// The JSON types of the protocol (requests with vLLM's extra parameters,
// chunks, responses, errors, model lists) live here too: package server
// serves them.
package openai
