package workloads

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Counter is how many tokens a text is, for the model that will run it.
type Counter func(text string) (int, error)

// ReadShareGPT reads the ShareGPT JSON format — an array of
// {"id", "conversations": [{"from": "human"|"gpt", "value"}…]} — taking
// each conversation's first human turn as the prompt and the length of the
// reply after it, in tokens, as the output length. Conversations without
// such a pair are skipped and counted. Errors name the line.
func ReadShareGPT(r io.Reader, count Counter) (specs []Spec, skipped int, err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	var convs []struct {
		ID            string `json:"id"`
		Conversations []struct {
			From  string `json:"from"`
			Value string `json:"value"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal(raw, &convs); err != nil {
		return nil, 0, jsonError(raw, err)
	}
	for i, c := range convs {
		found := false
		for t := 0; t+1 < len(c.Conversations); t++ {
			h, g := c.Conversations[t], c.Conversations[t+1]
			if h.From != "human" || g.From != "gpt" || strings.TrimSpace(h.Value) == "" {
				continue
			}
			n, err := count(g.Value)
			if err != nil {
				return nil, 0, fmt.Errorf("conversation %d (%s): %w", i+1, c.ID, err)
			}
			if n < 1 {
				break
			}
			id := c.ID
			if id == "" {
				id = fmt.Sprintf("sharegpt-%d", i)
			}
			specs = append(specs, Spec{ID: id, Prompt: h.Value, MaxTokens: n, TopP: 1, IgnoreEOS: true})
			found = true
			break
		}
		if !found {
			skipped++
		}
	}
	if len(specs) == 0 {
		return nil, skipped, fmt.Errorf("no conversation has a human turn followed by a gpt reply")
	}
	return specs, skipped, nil
}

// jsonError turns a JSON error's byte offset into a line number.
func jsonError(raw []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err
	}
	line := bytes.Count(raw[:min(int(off), len(raw))], []byte("\n")) + 1
	return fmt.Errorf("line %d: %w", line, err)
}

// ReadJSONL reads one request a line: {"prompt": "...", "output_len": N,
// "arrival_time": SECONDS (optional, for trace replay)}. Blank lines are
// skipped; errors name the line.
func ReadJSONL(r io.Reader) ([]Spec, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var specs []Spec
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec struct {
			Prompt    *string  `json:"prompt"`
			OutputLen *int     `json:"output_len"`
			Arrival   *float64 `json:"arrival_time"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch {
		case rec.Prompt == nil || *rec.Prompt == "":
			return nil, fmt.Errorf("line %d: no prompt", line)
		case rec.OutputLen == nil || *rec.OutputLen < 1:
			return nil, fmt.Errorf("line %d: output_len must be a whole number of at least 1", line)
		case rec.Arrival != nil && (*rec.Arrival < 0 || *rec.Arrival > 1e7):
			return nil, fmt.Errorf("line %d: arrival_time %g is not a time in seconds from the start", line, *rec.Arrival)
		}
		s := Spec{ID: fmt.Sprintf("line-%d", line), Prompt: *rec.Prompt, MaxTokens: *rec.OutputLen, TopP: 1, IgnoreEOS: true}
		if rec.Arrival != nil {
			s.Arrival = time.Duration(*rec.Arrival * float64(time.Second))
		}
		specs = append(specs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no requests")
	}
	return specs, nil
}
