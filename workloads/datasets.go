package workloads

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Counter is how many tokens a text is, for the model that will run it.
type Counter func(text string) (int, error)

// A dataset with nothing to run. Their texts are predicates, to follow the
// file's name: fmt.Errorf("%s %w", path, err) reads "x.json is empty".
var (
	ErrEmpty           = errors.New("is empty")
	ErrNoConversations = errors.New("holds no conversations")
)

// utf8BOM is the byte-order mark some editors put at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

// empty says whether raw holds nothing a reader could parse, and how.
func empty(raw []byte) error {
	switch {
	case len(raw) == 0:
		return fmt.Errorf("%w (0 bytes)", ErrEmpty)
	case len(bytes.TrimSpace(bytes.TrimPrefix(raw, utf8BOM))) == 0:
		return fmt.Errorf("%w (only white space)", ErrEmpty)
	}
	return nil
}

// jsonKind names the JSON value that starts at tok, for errors.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// The roles a ShareGPT-style turn may have: who asks, and who replies
// (ShareGPT's own, OpenAI's, and the other assistants ShareGPT dumps name).
// Compared without regard to case; other roles (system, tool) are skipped.
var (
	PromptRoles = []string{"human", "user"}
	ReplyRoles  = []string{"gpt", "assistant", "chatgpt", "bing", "bard", "model"}
)

// ReadShareGPT reads a ShareGPT-style JSON file: an array of
// conversations {"id", "conversations": [turn…]} ("messages" or
// "conversation" also name the turns), a turn being {"from", "value"} or
// {"role", "content"} (content a string or a list of {"text"} parts). Each
// conversation's first prompt turn (PromptRoles) followed by a reply
// (ReplyRoles) gives a request: the prompt's text, and the reply's length in
// tokens as the output length; the spec keeps the conversation's line.
// Conversations without such a pair are skipped and counted. Errors name
// the line; when no conversation has a pair, the error lists the roles and
// keys the file holds. A file of nothing but white space is ErrEmpty, an
// empty array ErrNoConversations.
func ReadShareGPT(r io.Reader, count Counter) (specs []Spec, skipped int, err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	if err := empty(raw); err != nil {
		return nil, 0, err
	}
	raw = bytes.TrimPrefix(raw, utf8BOM) // a BOM is not a syntax error
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil {
		return nil, 0, jsonError(raw, err)
	} else if tok != json.Delim('[') {
		return nil, 0, fmt.Errorf("line %d: a ShareGPT file is a JSON array of conversations, not %s", lineAt(raw, 0), jsonKind(tok))
	}
	roles, keys := map[string]int{}, map[string]bool{}
	firstSkipped := 0
	for i := 0; dec.More(); i++ {
		line := lineAt(raw, dec.InputOffset())
		var conv map[string]json.RawMessage
		if err := dec.Decode(&conv); err != nil {
			return nil, 0, jsonError(raw, err)
		}
		for k := range conv {
			keys[k] = true
		}
		s, found, err := sharegptPair(conv, roles, keys, count)
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: conversation %d: %w", line, i+1, err)
		}
		if !found {
			if skipped == 0 {
				firstSkipped = line
			}
			skipped++
			continue
		}
		if s.ID == "" {
			s.ID = fmt.Sprintf("sharegpt-%d", i)
		}
		s.Line = line
		specs = append(specs, s)
	}
	if _, err := dec.Token(); err != nil {
		return nil, 0, jsonError(raw, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, 0, fmt.Errorf("line %d: more after the array of conversations ends", lineAt(raw, dec.InputOffset()))
	}
	if len(specs) == 0 && skipped == 0 {
		return nil, 0, fmt.Errorf("%w (an empty JSON array)", ErrNoConversations)
	}
	if len(specs) == 0 {
		what := fmt.Sprintf("%d conversations, the first at line %d", skipped, firstSkipped)
		if skipped == 1 {
			what = fmt.Sprintf("1 conversation, at line %d", firstSkipped)
		}
		return nil, skipped, fmt.Errorf("no conversation has a %s turn followed by a %s reply (%s); the file has roles: %s; keys: %s",
			strings.Join(PromptRoles, "/"), strings.Join(ReplyRoles, "/"), what, roleList(roles), keyList(keys))
	}
	return specs, skipped, nil
}

// sharegptPair finds a conversation's first prompt turn answered by a
// reply, noting every role and key it sees.
func sharegptPair(conv map[string]json.RawMessage, roles map[string]int, keys map[string]bool, count Counter) (Spec, bool, error) {
	var turns []map[string]json.RawMessage
	for _, k := range []string{"conversations", "messages", "conversation"} {
		if raw, ok := conv[k]; ok {
			if err := json.Unmarshal(raw, &turns); err != nil {
				return Spec{}, false, fmt.Errorf("%q: %w", k, err)
			}
			break
		}
	}
	type turn struct{ role, text string }
	ts := make([]turn, 0, len(turns))
	for _, t := range turns {
		for k := range t {
			keys[k] = true
		}
		role := strings.ToLower(firstString(t, "from", "role"))
		if role != "" {
			roles[role]++
		}
		ts = append(ts, turn{role, turnText(t)})
	}
	for j := 0; j+1 < len(ts); j++ {
		h, g := ts[j], ts[j+1]
		if !slices.Contains(PromptRoles, h.role) || !slices.Contains(ReplyRoles, g.role) || strings.TrimSpace(h.text) == "" {
			continue
		}
		n, err := count(g.text)
		if err != nil {
			return Spec{}, false, err
		}
		if n < 1 {
			return Spec{}, false, nil
		}
		return Spec{ID: idString(conv["id"]), Prompt: h.text, MaxTokens: min(n, MaxLength), TopP: 1, IgnoreEOS: true}, true, nil
	}
	return Spec{}, false, nil
}

// firstString is the first of keys that t holds as a JSON string.
func firstString(t map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var s string
		if raw, ok := t[k]; ok && json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return ""
}

// turnText is a turn's text: value, content or text as a string, or
// content as a list of parts whose "text" fields are joined.
func turnText(t map[string]json.RawMessage) string {
	if s := firstString(t, "value", "content", "text"); s != "" {
		return s
	}
	var parts []map[string]json.RawMessage
	if raw, ok := t["content"]; ok && json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(firstString(p, "text"))
		}
		return b.String()
	}
	return ""
}

// idString is an id given as a JSON string or number ("" when absent).
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func roleList(roles map[string]int) string {
	if len(roles) == 0 {
		return "none"
	}
	var out []string
	for _, r := range slices.Sorted(maps.Keys(roles)) {
		out = append(out, fmt.Sprintf("%q (%d)", r, roles[r]))
	}
	return strings.Join(out, ", ")
}

func keyList(keys map[string]bool) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(keys)), ", ")
}

// lineAt is the line of the first byte at or after off that is not
// space or a comma (where a JSON value starts).
func lineAt(raw []byte, off int64) int {
	i := min(int(max(off, 0)), len(raw))
	for i < len(raw) && strings.IndexByte(" \t\r\n,", raw[i]) >= 0 {
		i++
	}
	return bytes.Count(raw[:i], []byte("\n")) + 1
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
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line := bytes.Count(raw, []byte("\n")) + 1
		return fmt.Errorf("line %d: the file ends inside its JSON (%w)", line, io.ErrUnexpectedEOF)
	}
	if off < 0 {
		return err
	}
	line := bytes.Count(raw[:min(int(off), len(raw))], []byte("\n")) + 1
	return fmt.Errorf("line %d: %w", line, err)
}

// ReadJSONL reads one request a line: {"prompt": "...", "output_len": N,
// "arrival_time": SECONDS (optional, for trace replay)}, N from 1 to
// MaxLength and the time at most 10⁷ s. Blank lines are skipped; errors
// name the line, and so does each spec. A file of nothing but white space
// is ErrEmpty.
func ReadJSONL(r io.Reader) ([]Spec, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var specs []Spec
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, string(utf8BOM))
		}
		if text = strings.TrimSpace(text); text == "" {
			continue
		}
		if text[0] != '{' && json.Valid([]byte(text)) {
			tok, _ := json.NewDecoder(strings.NewReader(text)).Token()
			return nil, fmt.Errorf(`line %d: a request is a JSON object {"prompt", "output_len", "arrival_time"}, not %s`, line, jsonKind(tok))
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
		case rec.OutputLen == nil || *rec.OutputLen < 1 || *rec.OutputLen > MaxLength:
			return nil, fmt.Errorf("line %d: output_len must be a whole number from 1 to %d", line, MaxLength)
		case rec.Arrival != nil && (*rec.Arrival < 0 || *rec.Arrival > 1e7):
			return nil, fmt.Errorf("line %d: arrival_time %g is not a time in seconds from the start (0 to 10⁷)", line, *rec.Arrival)
		}
		s := Spec{ID: fmt.Sprintf("line-%d", line), Prompt: *rec.Prompt, MaxTokens: *rec.OutputLen, TopP: 1, IgnoreEOS: true, Line: line}
		if rec.Arrival != nil {
			s.Arrival = time.Duration(*rec.Arrival * float64(time.Second))
		}
		specs = append(specs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	switch { // no requests: every line was blank, as any other is a request or an error
	case line == 0:
		return nil, fmt.Errorf("%w (no requests)", ErrEmpty)
	case len(specs) == 0:
		return nil, fmt.Errorf("%w (no requests, only blank lines)", ErrEmpty)
	}
	return specs, nil
}

// CheckFit checks a dataset against the model length before anything
// runs: a prompt of maxModelLen tokens or more can never run. The error
// names the line of the first such request (or its id, for specs not from
// a file) and counts the rest; promptTokens counts a spec's prompt.
func CheckFit(specs []Spec, maxModelLen int, promptTokens func(Spec) (int, error)) error {
	var first error
	bad := 0
	for _, s := range specs {
		n, err := promptTokens(s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.where(), err)
		}
		if n >= maxModelLen {
			if first == nil {
				first = fmt.Errorf("%s: a prompt of %d tokens does not fit max_model_len %d (it must leave room for one output token)", s.where(), n, maxModelLen)
			}
			bad++
		}
	}
	if bad > 1 {
		return fmt.Errorf("%w; and %d more requests too long", first, bad-1)
	}
	return first
}

// where names a spec for errors: its line, or its id.
func (s Spec) where() string {
	if s.Line > 0 {
		return fmt.Sprintf("line %d", s.Line)
	}
	return "request " + s.ID
}
