package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"benchtop/engine"
	"benchtop/openai"
)

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	j, err := s.parseCompletion(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.generate(w, r, j)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	j, err := s.parseChat(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.generate(w, r, j)
}

// finishReason is OpenAI's finish_reason: "stop" (EOS or a stop token) or
// "length" (max_tokens or the context).
func finishReason(f engine.FinishReason) string {
	if f == engine.FinishEOS || f == engine.FinishStop {
		return "stop"
	}
	return "length"
}

// failure is the error a request that ended without finishing gets:
// rejected (it cannot fit the KV pool) or aborted (the engine stopped).
func failure(u engine.StreamUpdate) *apiError {
	switch u.Finish {
	case engine.FinishRejected:
		return badRequest("", u.Err)
	case engine.FinishAborted:
		msg := "the request was aborted"
		if u.Err != "" {
			msg += ": " + u.Err
		}
		return &apiError{status: http.StatusServiceUnavailable, typ: "ServiceUnavailableError", msg: msg}
	}
	return nil
}

// generate submits the job and answers it, streamed or whole. A client that
// goes away has its request aborted, which frees its sequence.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, j *job) {
	req := &engine.Request{ID: j.id, Prompt: j.prompt, Params: j.params, Stream: engine.NewTokenStream()}
	k, release := s.pick()
	defer release()
	j.eng = s.engs[k]
	// Submission is not cancelled with the client: a command the engine
	// took must not be left without anyone to abort it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	err := j.eng.Submit(ctx, []*engine.Request{req})
	cancel()
	if err != nil {
		if !errors.Is(err, engine.ErrStopped) {
			s.abort(j, req.ID)
		}
		writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "ServiceUnavailableError", msg: "the engine is not running: " + err.Error()})
		return
	}
	// A request that cannot fit is rejected inside Submit: it is a 400.
	first := req.Stream.Take()
	if first.Done && first.Finish == engine.FinishRejected {
		writeError(w, failure(first))
		return
	}
	if j.stream {
		s.stream(w, r, j, req, first)
	} else {
		s.whole(w, r, j, req, first)
	}
}

// next waits for the stream's next update; false when the client left (its
// request is then aborted).
func (s *Server) next(r *http.Request, j *job, req *engine.Request) (engine.StreamUpdate, bool) {
	select {
	case <-req.Stream.Ready():
		return req.Stream.Take(), true
	case <-r.Context().Done():
		s.abort(j, req.ID)
		return engine.StreamUpdate{}, false
	}
}

// abort finishes a request whose client left; one that already finished
// is no error.
func (s *Server) abort(j *job, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.AbortTimeout)
	defer cancel()
	_ = j.eng.Abort(ctx, id)
}

// whole answers once the request finished.
func (s *Server) whole(w http.ResponseWriter, r *http.Request, j *job, req *engine.Request, u engine.StreamUpdate) {
	toks := append([]int32(nil), u.Tokens...)
	for !u.Done {
		var ok bool
		if u, ok = s.next(r, j, req); !ok {
			return
		}
		toks = append(toks, u.Tokens...)
	}
	if e := failure(u); e != nil {
		writeError(w, e)
		return
	}
	dt := newDetok(j.eng.Model().Tokenizer, j.prompt)
	text := dt.add(toks) + dt.flush()
	reason := finishReason(u.Finish)
	usage := &openai.Usage{PromptTokens: len(j.prompt), CompletionTokens: len(toks), TotalTokens: len(j.prompt) + len(toks)}
	var ids []int32
	if j.tokenIDs {
		ids = toks
	}
	created := time.Now().Unix()
	if j.chat {
		writeJSON(w, openai.ChatResponse{ID: j.id, Object: "chat.completion", Created: created, Model: s.name,
			Choices: []openai.ChatChoice{{Message: &openai.ChatOutMessage{Role: "assistant", Content: text},
				TokenIDs: ids, FinishReason: &reason}}, Usage: usage})
		return
	}
	writeJSON(w, openai.CompletionResponse{ID: j.id, Object: "text_completion", Created: created, Model: s.name,
		Choices: []openai.CompletionChoice{{Text: text, TokenIDs: ids, FinishReason: &reason}}, Usage: usage})
}

// sse writes server-sent events, flushing each.
type sse struct {
	w   http.ResponseWriter
	fl  http.Flusher
	err error
}

func (e *sse) data(v any) {
	if e.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	e.raw("data: " + string(b) + "\n\n")
}

func (e *sse) raw(s string) {
	if e.err != nil {
		return
	}
	if _, e.err = fmt.Fprint(e.w, s); e.err == nil && e.fl != nil {
		e.fl.Flush()
	}
}

// stream answers with server-sent events: one chunk per update the engine
// hands over (one token per step, more when this handler fell behind),
// then the usage chunk when asked for, then [DONE].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, j *job, req *engine.Request, u engine.StreamUpdate) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	out := &sse{w: w, fl: fl}
	created := time.Now().Unix()
	if j.chat {
		empty := ""
		out.data(openai.ChatResponse{ID: j.id, Object: "chat.completion.chunk", Created: created, Model: s.name,
			Choices: []openai.ChatChoice{{Delta: &openai.ChatDelta{Role: "assistant", Content: &empty}}}})
	}
	dt := newDetok(j.eng.Model().Tokenizer, j.prompt)
	n := 0
	for out.err == nil {
		n += len(u.Tokens)
		text := dt.add(u.Tokens)
		if u.Done {
			if e := failure(u); e != nil {
				code, _ := json.Marshal(e.status)
				out.data(openai.ErrorBody{Error: openai.ErrorDetail{Message: e.msg, Type: e.typ, Code: code}})
				out.raw("data: [DONE]\n\n")
				return
			}
			text += dt.flush()
		}
		var usage *openai.Usage
		if j.continuous || (u.Done && j.usage) {
			usage = &openai.Usage{PromptTokens: len(j.prompt), CompletionTokens: n, TotalTokens: len(j.prompt) + n}
		}
		if text != "" || u.Done || (len(u.Tokens) > 0 && (j.tokenIDs || j.continuous)) {
			var reason *string
			if u.Done {
				f := finishReason(u.Finish)
				reason = &f
			}
			var ids []int32
			if j.tokenIDs {
				ids = u.Tokens
				if ids == nil {
					ids = []int32{}
				}
			}
			chunkUsage := usage
			if !j.continuous {
				chunkUsage = nil
			}
			if j.chat {
				out.data(openai.ChatResponse{ID: j.id, Object: "chat.completion.chunk", Created: created, Model: s.name,
					Choices: []openai.ChatChoice{{Delta: &openai.ChatDelta{Content: &text}, TokenIDs: ids, FinishReason: reason}}, Usage: chunkUsage})
			} else {
				out.data(openai.CompletionResponse{ID: j.id, Object: "text_completion", Created: created, Model: s.name,
					Choices: []openai.CompletionChoice{{Text: text, TokenIDs: ids, FinishReason: reason}}, Usage: chunkUsage})
			}
		}
		if u.Done {
			if j.usage {
				if j.chat {
					out.data(openai.ChatResponse{ID: j.id, Object: "chat.completion.chunk", Created: created, Model: s.name,
						Choices: []openai.ChatChoice{}, Usage: usage})
				} else {
					out.data(openai.CompletionResponse{ID: j.id, Object: "text_completion", Created: created, Model: s.name,
						Choices: []openai.CompletionChoice{}, Usage: usage})
				}
			}
			out.raw("data: [DONE]\n\n")
			return
		}
		var ok bool
		if u, ok = s.next(r, j, req); !ok {
			return
		}
	}
	s.abort(j, req.ID) // the client stopped reading
}
