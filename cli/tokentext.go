package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"benchtop/engine/model"
	"benchtop/workloads"
)

// codec is what `tokenize --text`, `--dataset` and `--decode` go through:
// a model's tokenizer and prompt rule, or a tokenizer file alone.
type codec struct {
	tok    model.Tokenizer
	prompt *model.Prompter // the model's prompt rule; nil for a tokenizer file alone
	// vocab bounds the ids --decode takes: the model's vocab_size, or the
	// file's largest id + 1.
	vocab int64
}

// codec opens what the flags name: --tokenizer alone is that file; else
// the model (--model, default opt-125m) with its own tokenizer or tok.
func (c *TokenizeCmd) codec(tok model.Tokenizer) (*codec, error) {
	if tok != nil && c.Model == "" {
		return &codec{tok: tok, vocab: int64(tok.MaxID()) + 1}, nil
	}
	cfg, p, err := model.OpenPrompter(c.modelSpec(), model.Options{Tokenizer: tok})
	if err != nil {
		return nil, err
	}
	if p.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt): give one with --tokenizer FILE", c.modelSpec())
	}
	return &codec{tok: p.Tokenizer, prompt: p, vocab: int64(cfg.VocabSize)}, nil
}

// encode is text's ids: with special, as the engine builds a prompt of the
// model (or as the file's post-processor adds them, for a file alone).
func (x *codec) encode(text string, special bool) ([]int32, error) {
	var ids []int32
	var err error
	switch {
	case !special:
		ids, err = x.tok.Encode(text)
	case x.prompt != nil:
		ids, err = x.prompt.Encode(text)
	default:
		ids, err = x.tok.EncodeSpecial(text)
	}
	if ids == nil && err == nil {
		ids = []int32{} // [] on the wire, not null
	}
	return ids, err
}

// encode prints one JSON array of ids per --text, or per prompt of
// --dataset.
func (c *TokenizeCmd) encode(e *env, tok model.Tokenizer) error {
	x, err := c.codec(tok)
	if err != nil {
		return err
	}
	texts, where := c.Text, func(i int) string { return fmt.Sprintf("--text %d", i+1) }
	if c.Dataset != "" {
		var lines []int
		if texts, lines, err = datasetPrompts(c.Dataset, x); err != nil {
			return datasetError(c.Dataset, err)
		}
		where = func(i int) string { return fmt.Sprintf("--dataset %s: line %d", c.Dataset, lines[i]) }
	}
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	for i, text := range texts {
		if !utf8.ValidString(text) {
			w.Flush()
			return fmt.Errorf("%s: not valid UTF-8", where(i))
		}
		ids, err := x.encode(text, c.AddSpecialTokens)
		if err != nil {
			w.Flush()
			return fmt.Errorf("%s: %w", where(i), err)
		}
		enc.Encode(ids)
	}
	return w.Flush()
}

// datasetPrompts are the prompts of a dataset file, as the engine
// commands read it (JSONL of {prompt, output_len, arrival_time}, else
// ShareGPT JSON), with the line each came from.
func datasetPrompts(path string, x *codec) ([]string, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var specs []workloads.Spec
	if strings.HasSuffix(path, ".jsonl") {
		specs, err = workloads.ReadJSONL(f)
	} else {
		// The reply's length decides, as in a run, whether a conversation
		// becomes a request.
		specs, _, err = workloads.ReadShareGPT(f, func(text string) (int, error) {
			ids, err := x.tok.Encode(text)
			return len(ids), err
		})
	}
	if err != nil {
		return nil, nil, err
	}
	texts, lines := make([]string, len(specs)), make([]int, len(specs))
	for i, s := range specs {
		texts[i], lines[i] = s.Prompt, s.Line
	}
	return texts, lines, nil
}

// decode prints one JSON string per --decode.
func (c *TokenizeCmd) decode(e *env, tok model.Tokenizer) error {
	x, err := c.codec(tok)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "<s>", not "\u003cs\u003e"
	for i, s := range c.Decode {
		ids, err := parseIDList(s, x.vocab)
		if err != nil {
			w.Flush()
			which := ""
			if len(c.Decode) > 1 { // which of several: "the 2nd --decode", not a value
				which = fmt.Sprintf(" (the %s of %d)", ordinal(i+1), len(c.Decode))
			}
			return fmt.Errorf("--decode %.40q%s: %w", s, which, err)
		}
		enc.Encode(x.tok.Decode(ids))
	}
	return w.Flush()
}

// parseIDList reads "1,2,3" or "[1, 2, 3]": ids from 0 to below vocab.
// An id the tokenizer lacks inside that range (a vocabulary padded past
// the tokenizer's, as Qwen's) decodes to nothing, as in Hugging Face.
func parseIDList(s string, vocab int64) ([]int32, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		if !strings.HasSuffix(t, "]") {
			return nil, fmt.Errorf("a JSON array of ids lacks its closing ]")
		}
		t = t[1 : len(t)-1]
	}
	ids := []int32{}
	for _, f := range strings.Split(t, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			if strings.TrimSpace(t) == "" {
				break // an empty list
			}
			return nil, fmt.Errorf("an empty id between commas")
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%.20q is not a token id", f)
		}
		if n < 0 || n >= vocab {
			return nil, fmt.Errorf("id %d is outside the vocabulary (0 to %d)", n, vocab-1)
		}
		ids = append(ids, int32(n))
	}
	return ids, nil
}

// ordinal is 1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st.
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
