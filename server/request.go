package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"benchtop/engine"
	"benchtop/openai"
)

// job is one validated request, ready for the engine.
type job struct {
	chat       bool
	id         string
	prompt     []int32
	params     engine.SamplingParams
	stream     bool
	usage      bool           // stream_options.include_usage
	continuous bool           // stream_options.continuous_usage_stats (vLLM)
	tokenIDs   bool           // return_token_ids (vLLM)
	eng        *engine.Engine // the replica serving it
}

// decode reads the JSON body into v: 413 past the size limit, 400 for
// anything that is not the expected JSON.
func decode(r *http.Request, v any) *apiError {
	err := json.NewDecoder(r.Body).Decode(v)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, typ: "RequestEntityTooLarge",
			msg: fmt.Sprintf("request body over %d bytes", tooLarge.Limit)}
	}
	return badRequest("", "invalid JSON body: "+err.Error())
}

func (s *Server) parseCompletion(r *http.Request) (*job, *apiError) {
	var req openai.CompletionRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Echo {
		return nil, badRequest("echo", "echo is not supported")
	}
	var prompt []int32
	if req.Prompt.IsTokens {
		prompt = req.Prompt.Tokens
	} else {
		p, err := s.encode(req.Prompt.Text, "prompt")
		if err != nil {
			return nil, err
		}
		prompt = p
	}
	// OpenAI's and vLLM's default for completions is 16 tokens.
	return s.common(&req.Sampling, nil, prompt, 16, false)
}

func (s *Server) parseChat(r *http.Request) (*job, *apiError) {
	var req openai.ChatRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, badRequest("messages", "messages must not be empty")
	}
	prompt, err := s.encode(chatPrompt(req.Messages), "messages")
	if err != nil {
		return nil, err
	}
	// Chat's default is whatever fits the context, as vLLM's.
	return s.common(&req.Sampling, req.MaxCompletionTokens, prompt, 0, true)
}

// chatPrompt renders messages with benchtop's one fixed template (its
// models carry no chat template): "role: content" lines, then
// "assistant:".
func chatPrompt(msgs []openai.ChatMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	b.WriteString("assistant:")
	return b.String()
}

func (s *Server) encode(text, param string) ([]int32, *apiError) {
	ids, err := s.engs[0].Model().Encode(text)
	if err != nil {
		return nil, badRequest(param, "cannot tokenize the prompt: "+err.Error())
	}
	return ids, nil
}

// isNone says whether a raw optional field is absent or empty.
func isNone(raw json.RawMessage, empties ...string) bool {
	t := string(bytes.TrimSpace(raw))
	if t == "" || t == "null" {
		return true
	}
	for _, e := range empties {
		if t == e {
			return true
		}
	}
	return false
}

// common checks what both APIs share and fills the engine's parameters.
// defaultMax 0 means "what fits the context".
func (s *Server) common(sm *openai.Sampling, maxCompletion *int, prompt []int32, defaultMax int, chat bool) (*job, *apiError) {
	if sm.Model != "" && sm.Model != s.name {
		return nil, &apiError{status: http.StatusNotFound, typ: "NotFoundError", param: "model",
			msg: fmt.Sprintf("The model `%s` does not exist.", sm.Model)}
	}
	if sm.N != nil && *sm.N != 1 {
		return nil, badRequest("n", "n must be 1: one completion per request")
	}
	if !isNone(sm.Logprobs, "false", "0") {
		return nil, badRequest("logprobs", "logprobs are not supported")
	}
	if !isNone(sm.Stop, `""`, "[]") {
		return nil, badRequest("stop", "stop strings are not supported; use stop_token_ids")
	}
	if len(prompt) == 0 {
		return nil, badRequest("prompt", "the prompt is empty")
	}
	for _, t := range prompt {
		if t < 0 || int(t) >= s.vocab {
			return nil, badRequest("prompt", fmt.Sprintf("token id %d is outside the vocabulary of %d", t, s.vocab))
		}
	}
	if len(prompt) >= s.maxModelLen {
		return nil, badRequest("prompt", fmt.Sprintf("This model's maximum context length is %d tokens; the prompt has %d.", s.maxModelLen, len(prompt)))
	}
	maxTokens := defaultMax
	if maxTokens == 0 {
		maxTokens = s.maxModelLen - len(prompt)
	}
	if maxCompletion != nil {
		maxTokens = *maxCompletion
	} else if sm.MaxTokens != nil {
		maxTokens = *sm.MaxTokens
	}
	if maxTokens < 1 {
		return nil, badRequest("max_tokens", fmt.Sprintf("max_tokens must be at least 1, got %d", maxTokens))
	}
	if maxTokens > s.maxModelLen-len(prompt) { // (not len+max: that sum can overflow)
		return nil, badRequest("max_tokens", fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the prompt, %d in the completion).",
			s.maxModelLen, len(prompt)+maxTokens, len(prompt), maxTokens))
	}
	p := engine.SamplingParams{Temperature: 1, TopP: 1, MaxTokens: maxTokens, IgnoreEOS: sm.IgnoreEOS}
	if sm.Temperature != nil {
		p.Temperature = float32(*sm.Temperature)
	}
	if sm.TopP != nil {
		p.TopP = float32(*sm.TopP)
	}
	if sm.TopK != nil && *sm.TopK != -1 { // -1 is vLLM's "off"
		p.TopK = *sm.TopK
	}
	if sm.Seed != nil {
		// The engine's seed 0 means "derive one"; a client's seed is any
		// int64, mapped one to one away from 0.
		p.Seed = uint64(*sm.Seed) ^ 0x9e3779b97f4a7c15
	}
	for _, t := range sm.StopTokenIDs {
		if t < 0 || int(t) >= s.vocab {
			return nil, badRequest("stop_token_ids", fmt.Sprintf("token id %d is outside the vocabulary of %d", t, s.vocab))
		}
	}
	p.StopTokens = sm.StopTokenIDs
	switch {
	case sm.MinTokens < 0 || sm.MinTokens > maxTokens:
		return nil, badRequest("min_tokens", fmt.Sprintf("min_tokens %d must be between 0 and max_tokens (%d)", sm.MinTokens, maxTokens))
	case sm.MinTokens == maxTokens:
		// The output is held at exactly max_tokens: EOS and stop tokens
		// cannot end it, which is what vLLM's min_tokens does up to there.
		p.IgnoreEOS, p.StopTokens = true, nil
	case sm.MinTokens > 0:
		return nil, badRequest("min_tokens", "min_tokens below max_tokens is not supported by this engine (it cannot mask EOS for part of a request); set min_tokens = max_tokens or ignore_eos")
	}
	if err := p.Validate(); err != nil {
		return nil, badRequest("", err.Error())
	}
	j := &job{chat: chat, prompt: prompt, params: p, stream: sm.Stream, tokenIDs: sm.ReturnTokenIDs}
	if sm.Stream && sm.StreamOptions != nil {
		j.usage = sm.StreamOptions.IncludeUsage || sm.StreamOptions.ContinuousUsage
		j.continuous = sm.StreamOptions.ContinuousUsage
	}
	if chat {
		j.id = s.newID("chatcmpl")
	} else {
		j.id = s.newID("cmpl")
	}
	return j, nil
}
