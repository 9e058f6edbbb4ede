package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// processor adds special tokens around an encoded text when asked
// (tokenizer.json's "post_processor", for a single sequence).
type processor interface {
	process(ids []int32, addSpecial bool) []int32
	// added is how many ids process adds with addSpecial.
	added() int
}

type processorSeq []processor

func (q processorSeq) added() int {
	n := 0
	for _, p := range q {
		n += p.added()
	}
	return n
}

func (q processorSeq) process(ids []int32, addSpecial bool) []int32 {
	for _, p := range q {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

// wrapProcessor puts fixed ids before and after the sequence: the single
// template of TemplateProcessing, and Roberta's and Bert's <cls> A <sep>.
type wrapProcessor struct {
	before, after []int32
}

func (w wrapProcessor) added() int { return len(w.before) + len(w.after) }

func (w wrapProcessor) process(ids []int32, addSpecial bool) []int32 {
	if !addSpecial || len(w.before)+len(w.after) == 0 {
		return ids
	}
	out := make([]int32, 0, len(w.before)+len(ids)+len(w.after))
	out = append(out, w.before...)
	out = append(out, ids...)
	return append(out, w.after...)
}

// byteLevelProc is the ByteLevel post-processor: it only trims offsets,
// which ids do not carry, so it adds nothing.
type byteLevelProc struct{}

func (byteLevelProc) process(ids []int32, _ bool) []int32 { return ids }

func (byteLevelProc) added() int { return 0 }

// templatePiece is one element of a template: {"Sequence": {"id": "A",
// "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 0}}, or the
// string forms "$A", "$0", "<s>", "<s>:1".
type templatePiece struct {
	sequence string // "A" or "B" for a sequence piece
	special  string // the special token's name otherwise
}

func parseTemplatePiece(raw json.RawMessage) (templatePiece, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		name, _, _ := strings.Cut(s, ":")
		if rest, ok := strings.CutPrefix(name, "$"); ok {
			switch rest {
			case "", "A", "a":
				return templatePiece{sequence: "A"}, nil
			case "B", "b":
				return templatePiece{sequence: "B"}, nil
			}
			for _, c := range rest {
				if c < '0' || c > '9' {
					return templatePiece{}, fmt.Errorf("template piece %q", s)
				}
			}
			return templatePiece{sequence: "A"}, nil
		}
		return templatePiece{special: name}, nil
	}
	var v struct {
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return templatePiece{}, fmt.Errorf("template piece %s: %w", raw, err)
	}
	switch {
	case v.Sequence != nil && v.SpecialToken == nil:
		if v.Sequence.ID != "A" && v.Sequence.ID != "B" {
			return templatePiece{}, fmt.Errorf("template piece %s: sequence id %q (want A or B)", raw, v.Sequence.ID)
		}
		return templatePiece{sequence: v.Sequence.ID}, nil
	case v.SpecialToken != nil && v.Sequence == nil:
		return templatePiece{special: v.SpecialToken.ID}, nil
	}
	return templatePiece{}, fmt.Errorf("template piece %s: want {\"Sequence\": ...} or {\"SpecialToken\": ...}", raw)
}

// parseTemplate reads a template given as a list of pieces or as one
// space-separated string.
func parseTemplate(raw json.RawMessage) ([]templatePiece, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var out []templatePiece
		for _, f := range strings.Split(s, " ") {
			b, _ := json.Marshal(f)
			p, err := parseTemplatePiece(b)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	out := make([]templatePiece, 0, len(list))
	for _, r := range list {
		p, err := parseTemplatePiece(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

type templateSpecialJSON struct {
	ID     string   `json:"id"`
	IDs    []uint32 `json:"ids"`
	Tokens []string `json:"tokens"`
}

func parseTemplateProcessing(raw json.RawMessage) (processor, error) {
	var v struct {
		Single        json.RawMessage `json:"single"`
		Pair          json.RawMessage `json:"pair"`
		SpecialTokens json.RawMessage `json:"special_tokens"`
	}
	if err := strictFields(raw, &v, "single", "pair", "special_tokens"); err != nil {
		return nil, err
	}
	single, err := parseTemplate(v.Single)
	if err != nil {
		return nil, fmt.Errorf("single: %w", err)
	}
	if _, err := parseTemplate(v.Pair); err != nil {
		return nil, fmt.Errorf("pair: %w", err)
	}
	// special_tokens is a map name → {id, ids, tokens}; older files wrote a
	// list of such objects.
	specials := map[string]templateSpecialJSON{}
	if err := json.Unmarshal(v.SpecialTokens, &specials); err != nil {
		var list []templateSpecialJSON
		if json.Unmarshal(v.SpecialTokens, &list) != nil {
			return nil, fmt.Errorf("special_tokens: %w", err)
		}
		for _, s := range list {
			specials[s.ID] = s
		}
	}
	var w wrapProcessor
	seen := false
	for _, p := range single {
		if p.sequence == "B" {
			return nil, fmt.Errorf("single template uses sequence B")
		}
		if p.sequence != "" {
			if seen {
				return nil, fmt.Errorf("single template uses sequence A twice")
			}
			seen = true
			continue
		}
		st, ok := specials[p.special]
		if !ok {
			return nil, fmt.Errorf("single template names special token %q, which special_tokens lacks", p.special)
		}
		if len(st.IDs) != len(st.Tokens) {
			return nil, fmt.Errorf("special token %q: %d ids but %d tokens", p.special, len(st.IDs), len(st.Tokens))
		}
		for _, id := range st.IDs {
			if id > maxID {
				return nil, fmt.Errorf("special token %q: id %d is too large", p.special, id)
			}
			if seen {
				w.after = append(w.after, int32(id))
			} else {
				w.before = append(w.before, int32(id))
			}
		}
	}
	if !seen {
		return nil, fmt.Errorf("single template has no sequence")
	}
	return w, nil
}

// parseClsSep reads Roberta's and Bert's ["<s>", 0] pairs.
func parseClsSep(raw json.RawMessage) (wrapProcessor, error) {
	var v struct {
		Sep []json.RawMessage `json:"sep"`
		Cls []json.RawMessage `json:"cls"`
	}
	if err := strictFields(raw, &v, "sep", "cls"); err != nil {
		return wrapProcessor{}, err
	}
	id := func(name string, pair []json.RawMessage) (int32, error) {
		var tok string
		var n uint32
		if len(pair) != 2 || json.Unmarshal(pair[0], &tok) != nil || json.Unmarshal(pair[1], &n) != nil || n > maxID {
			return 0, fmt.Errorf("%s: want [token, id]", name)
		}
		return int32(n), nil
	}
	cls, err := id("cls", v.Cls)
	if err != nil {
		return wrapProcessor{}, err
	}
	sep, err := id("sep", v.Sep)
	if err != nil {
		return wrapProcessor{}, err
	}
	return wrapProcessor{before: []int32{cls}, after: []int32{sep}}, nil
}

func parseProcessor(raw json.RawMessage) (processor, error) {
	typ, err := componentType(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "TemplateProcessing":
		p, err := parseTemplateProcessing(raw)
		if err != nil {
			return nil, fmt.Errorf("TemplateProcessing: %w", err)
		}
		return p, nil
	case "ByteLevel":
		if _, err := parseByteLevel(raw); err != nil {
			return nil, err
		}
		return byteLevelProc{}, nil
	case "RobertaProcessing", "BertProcessing":
		p, err := parseClsSep(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		return p, nil
	case "Sequence":
		q, err := parseSequence(raw, "processors", parseProcessor)
		if err != nil {
			return nil, err
		}
		return processorSeq(q), nil
	}
	return nil, fmt.Errorf("%w: post-processor %q (supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence)", ErrUnsupported, typ)
}
