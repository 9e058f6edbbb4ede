package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's "added_tokens": a token
// matched in the text before anything else, as one id.
type addedToken struct {
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedVocab holds the added tokens and the two matchers Hugging Face
// keeps: tokens matched in the raw text ("normalized": false) and tokens
// matched in normalized text (by their normalized form).
type addedVocab struct {
	byContent map[string]int32
	byID      map[int32]addedToken
	normForm  map[int32]string // normalized form, where it differs
	special   map[string]bool
	raw, norm *matcher
}

// newAddedVocab registers tokens in order the way tokenizers' add_tokens
// does: a token keeps the id its content already has (as an added token
// or in the model's vocabulary); a new one gets the next id from the
// model's vocabulary size. The ids written in the file are not used (HF
// only warns when they differ).
func newAddedVocab(tokens []addedToken, model *bpe, n normalizer) (*addedVocab, error) {
	av := &addedVocab{
		byContent: map[string]int32{},
		byID:      map[int32]addedToken{},
		normForm:  map[int32]string{},
		special:   map[string]bool{},
	}
	next := int32(len(model.vocab))
	for _, t := range tokens {
		if t.Content == "" {
			continue
		}
		if id, ok := av.byContent[t.Content]; ok && av.byID[id] == t {
			continue
		}
		id, ok := av.byContent[t.Content]
		if !ok {
			id, ok = model.vocab[t.Content]
		}
		if !ok {
			id = next
			next++
		}
		if t.Normalized && n != nil {
			s, err := n.normalize(t.Content)
			if err != nil {
				return nil, err
			}
			if s != t.Content {
				av.normForm[id] = s
			}
		}
		av.byContent[t.Content] = id
		if t.Special {
			av.special[t.Content] = true
		}
		av.byID[id] = t
	}
	raw, norm := newMatcher(), newMatcher()
	for id, t := range av.byID {
		if t.Normalized {
			s, ok := av.normForm[id]
			if !ok {
				s = t.Content
			}
			norm.add(s, id)
		} else {
			raw.add(t.Content, id)
		}
	}
	av.raw, av.norm = raw, norm
	return av, nil
}

// tokenString is what an added token decodes from: its normalized form
// when it has one (so a byte-level decoder can invert it), else its text.
func (av *addedVocab) tokenString(id int32) (string, bool) {
	t, ok := av.byID[id]
	if !ok {
		return "", false
	}
	if s, ok := av.normForm[id]; ok {
		return s, true
	}
	return t.Content, true
}

// split cuts p's text around the tokens m finds, leftmost first and
// longest among those starting at the same place, honouring single_word,
// lstrip and rstrip. It appends the pieces to out.
func (av *addedVocab) split(m *matcher, p piece, out []piece) []piece {
	s := p.text
	if m.empty() || s == "" {
		if s != "" {
			out = append(out, p)
		}
		return out
	}
	emit := func(a, b int, id int32) {
		if b > a {
			out = append(out, piece{text: s[a:b], id: id, first: p.first && a == 0})
		}
	}
	done := 0 // bytes of s already emitted
	for pos := 0; pos < len(s); {
		start, end, id, ok := m.next(s, pos)
		if !ok {
			break
		}
		pos = end
		t := av.byID[id]
		if t.SingleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:start])
			after, _ := utf8.DecodeRuneInString(s[end:])
			if start > 0 && isWordRune(before) || end < len(s) && isWordRune(after) {
				continue
			}
		}
		if t.LStrip {
			ls := len(strings.TrimRightFunc(s[:start], unicode.IsSpace))
			start = max(ls, done)
		}
		if t.RStrip {
			// The search goes on from the token's own end, as HF's does.
			end = len(s) - len(strings.TrimLeftFunc(s[end:], unicode.IsSpace))
		}
		emit(done, start, -1)
		emit(start, end, id)
		done = end
	}
	emit(done, len(s), -1)
	return out
}

// matcher finds the leftmost-longest occurrence of a set of strings: a
// byte trie walked from each candidate start.
type matcher struct {
	nodes []trieNode
	first [256]bool // bytes that start some pattern
	n     int
}

type trieNode struct {
	next map[byte]int32
	id   int32 // pattern ending here, or -1
}

func newMatcher() *matcher { return &matcher{nodes: []trieNode{{id: -1}}} }

func (m *matcher) empty() bool { return m.n == 0 }

func (m *matcher) add(s string, id int32) {
	if s == "" {
		return
	}
	cur := int32(0)
	for i := 0; i < len(s); i++ {
		nx, ok := m.nodes[cur].next[s[i]]
		if !ok {
			if m.nodes[cur].next == nil {
				m.nodes[cur].next = map[byte]int32{}
			}
			nx = int32(len(m.nodes))
			m.nodes = append(m.nodes, trieNode{id: -1})
			m.nodes[cur].next[s[i]] = nx
		}
		cur = nx
	}
	m.nodes[cur].id = id
	m.first[s[0]] = true
	m.n++
}

// next finds the leftmost-longest match starting at or after pos.
func (m *matcher) next(s string, pos int) (start, end int, id int32, ok bool) {
	for i := pos; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		cur, best, bestEnd := int32(0), int32(-1), -1
		for j := i; j < len(s); j++ {
			nx, ok := m.nodes[cur].next[s[j]]
			if !ok {
				break
			}
			cur = nx
			if m.nodes[cur].id >= 0 {
				best, bestEnd = m.nodes[cur].id, j+1
			}
		}
		if best >= 0 {
			return i, bestEnd, best, true
		}
	}
	return 0, 0, 0, false
}
