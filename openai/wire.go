package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The JSON bodies of the OpenAI-compatible API, as OpenAI names them, plus
// the extra sampling parameters vLLM takes (ignore_eos, min_tokens, top_k,
// stop_token_ids, return_token_ids, stream_options.continuous_usage_stats).
// The client and benchtop's own server (package server) share them.

// StreamOptions is the request's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage,omitempty"`
	// ContinuousUsage is vLLM's continuous_usage_stats: usage on every chunk.
	ContinuousUsage bool `json:"continuous_usage_stats,omitempty"`
}

// Sampling are the fields completions and chat requests share. Pointers are
// "not sent"; the server applies its defaults.
type Sampling struct {
	Model         string         `json:"model,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	TopK          *int           `json:"top_k,omitempty"`
	Seed          *int64         `json:"seed,omitempty"`
	N             *int           `json:"n,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
	MinTokens     int            `json:"min_tokens,omitempty"`
	StopTokenIDs  []int32        `json:"stop_token_ids,omitempty"`
	// Stop is OpenAI's stop strings (a string or a list); kept raw so a
	// server can tell "none" (null, "", []) from strings it cannot honour.
	Stop           json.RawMessage `json:"stop,omitempty"`
	ReturnTokenIDs bool            `json:"return_token_ids,omitempty"`
	Logprobs       json.RawMessage `json:"logprobs,omitempty"`
	User           string          `json:"user,omitempty"`
}

// CompletionRequest is the body of POST /v1/completions.
type CompletionRequest struct {
	Prompt Prompt `json:"prompt"`
	Echo   bool   `json:"echo,omitempty"`
	Sampling
}

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Messages []ChatMessage `json:"messages"`
	// MaxCompletionTokens is OpenAI's newer name for max_tokens.
	MaxCompletionTokens *int `json:"max_completion_tokens,omitempty"`
	Sampling
}

// Prompt is a completions prompt: text, or token ids. On the wire it is a
// string or a list of integers; a list of prompts (batch) does not decode,
// since benchtop sends and serves one prompt per request.
type Prompt struct {
	Text     string
	Tokens   []int32
	IsTokens bool
}

// ErrPromptBatch is returned when a prompt is a list of several prompts.
var ErrPromptBatch = errors.New("a list of several prompts: send one prompt per request")

// MarshalJSON writes the text as a string, or the tokens as a list.
func (p Prompt) MarshalJSON() ([]byte, error) {
	if p.IsTokens {
		if p.Tokens == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(p.Tokens)
	}
	return json.Marshal(p.Text)
}

// UnmarshalJSON takes a string, a list of integers, or a list holding one
// string or one list of integers.
func (p *Prompt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*p = Prompt{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.Text)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("prompt: want a string or a list of token ids: %w", err)
	}
	if len(list) == 1 {
		if e := bytes.TrimSpace(list[0]); len(e) > 0 && (e[0] == '"' || e[0] == '[') {
			return p.UnmarshalJSON(e) // one prompt in a list
		}
	}
	p.IsTokens = true
	p.Tokens = make([]int32, 0, len(list))
	for _, e := range list {
		var t int32
		if err := json.Unmarshal(e, &t); err != nil {
			if e = bytes.TrimSpace(e); len(e) > 0 && (e[0] == '"' || e[0] == '[') {
				return ErrPromptBatch
			}
			return fmt.Errorf("prompt: token id %s is not a 32-bit integer", truncate(string(e), 40))
		}
		p.Tokens = append(p.Tokens, t)
	}
	return nil
}

// ChatMessage is one message. Content is a string on the wire, or a list of
// parts of which the "text" ones are joined.
type ChatMessage struct {
	Role    string      `json:"role"`
	Content ChatContent `json:"content"`
}

// ChatContent is a message's text.
type ChatContent string

// UnmarshalJSON takes a string, null, or a list of {"type":"text","text":...}
// parts; a part of another type is an error (this server reads text only).
func (c *ChatContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return fmt.Errorf("content: %w", err)
		}
		var s string
		for _, p := range parts {
			if p.Type != "text" {
				return fmt.Errorf("content part of type %q: only text is supported", truncate(p.Type, 40))
			}
			s += p.Text
		}
		*c = ChatContent(s)
		return nil
	}
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("content: want a string or a list of text parts: %w", err)
	}
	if s != nil {
		*c = ChatContent(*s)
	}
	return nil
}

// Usage is the token accounting of a response (or of the usage chunk).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// CompletionChoice is one choice of a completions response or chunk.
type CompletionChoice struct {
	Index        int             `json:"index"`
	Text         string          `json:"text"`
	TokenIDs     []int32         `json:"token_ids,omitempty"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

// CompletionResponse is a completions response, or one chunk of its stream
// (object "text_completion" in both, as OpenAI sends).
type CompletionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   *Usage             `json:"usage,omitempty"`
}

// ChatDelta is the increment a chat chunk carries.
type ChatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// ChatOutMessage is a non-streamed chat response's message.
type ChatOutMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatChoice is one choice of a chat response (Message) or chunk (Delta).
type ChatChoice struct {
	Index        int             `json:"index"`
	Delta        *ChatDelta      `json:"delta,omitempty"`
	Message      *ChatOutMessage `json:"message,omitempty"`
	TokenIDs     []int32         `json:"token_ids,omitempty"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

// ChatResponse is a chat response (object "chat.completion") or one chunk
// of its stream ("chat.completion.chunk").
type ChatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   *Usage       `json:"usage,omitempty"`
}

// ModelCard is one entry of GET /v1/models.
type ModelCard struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	MaxModelLen int    `json:"max_model_len,omitempty"` // vLLM's extra field
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"`
	Data   []ModelCard `json:"data"`
}

// ErrorDetail is OpenAI's error object. Code is an HTTP status as vLLM sends
// it (OpenAI itself sends a string or null there; both decode).
type ErrorDetail struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   *string         `json:"param"`
	Code    json.RawMessage `json:"code"`
}

// ErrorBody is the body of an error response: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// truncate cuts s to at most n bytes (on a rune boundary), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
