package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// mergeRule is what merging a pair of tokens gives: its rank (the merge's
// line in the file; lower merges first) and the merged token's id.
type mergeRule struct {
	rank  uint32
	newID int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpe is the BPE model of a tokenizer.json ("model": {"type": "BPE"}): it
// turns one pre-token into ids by merging adjacent symbols, lowest rank
// first, as Hugging Face tokenizers' BPE model does.
type bpe struct {
	vocab  map[string]int32
	vocabR idTable
	merges map[uint64]mergeRule

	unkToken     string
	hasUnk       bool
	prefix       string // continuing_subword_prefix, before every symbol but the first
	suffix       string // end_of_word_suffix, after the last symbol
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteIDs      [256]int32 // ids of <0x00>..<0xFF>, -1 where absent

	cache *idCache
}

// initBytes fills byteIDs from the vocabulary.
func (m *bpe) initBytes() {
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
}

// tokenize appends the ids of one pre-token to dst.
func (m *bpe) tokenize(dst []int32, w string) ([]int32, error) {
	if w == "" {
		return dst, nil
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[w]; ok {
			return append(dst, id), nil
		}
	}
	if ids, ok := m.cache.get(w); ok {
		return append(dst, ids...), nil
	}
	start := len(dst)
	dst, err := m.mergeWord(dst, w)
	if err != nil {
		return dst[:start], err
	}
	m.cache.put(w, dst[start:])
	return dst, nil
}

type symbol struct {
	id         int32
	prev, next int32
	size       int32 // bytes of the pre-token it covers; 0 once merged away
}

type mergeCand struct {
	rank  uint32
	pos   int32
	newID int32
}

// mergeWord splits w into one symbol per character (with the unknown
// token, byte fallback, prefix and suffix rules), then applies merges
// lowest rank first, leftmost first among equal ranks.
func (m *bpe) mergeWord(dst []int32, w string) ([]int32, error) {
	syms := make([]symbol, 0, len(w))
	add := func(id int32, size int) {
		prev := int32(len(syms)) - 1
		if prev >= 0 {
			syms[prev].next = int32(len(syms))
		}
		syms = append(syms, symbol{id: id, prev: prev, next: -1, size: int32(size)})
	}
	unkID, unkSize := int32(-1), 0
	for i := 0; i < len(w); {
		_, n := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+n]
		if i > 0 && m.prefix != "" {
			s = m.prefix + s
		}
		if i+n == len(w) && m.suffix != "" {
			s += m.suffix
		}
		i += n
		if id, ok := m.vocab[s]; ok {
			if unkID >= 0 {
				add(unkID, unkSize)
				unkID = -1
			}
			add(id, n)
			continue
		}
		if m.byteFallback && m.allBytes(s) {
			for k := 0; k < len(s); k++ {
				add(m.byteIDs[s[k]], 1)
			}
			continue
		}
		if !m.hasUnk {
			return dst, fmt.Errorf("%w: %q is not in the vocabulary, which has no unknown token and no byte fallback", ErrInvalidText, s)
		}
		id, ok := m.vocab[m.unkToken]
		if !ok {
			return dst, fmt.Errorf("%w: the unknown token %q is not in the vocabulary", ErrMalformed, m.unkToken)
		}
		switch {
		case unkID >= 0 && m.fuseUnk:
			unkSize += n
		case unkID >= 0:
			add(unkID, unkSize)
			unkID, unkSize = id, n
		default:
			unkID, unkSize = id, n
		}
	}
	if unkID >= 0 {
		add(unkID, unkSize)
	}
	m.mergeAll(syms)
	for _, s := range syms {
		if s.size != 0 {
			dst = append(dst, s.id)
		}
	}
	return dst, nil
}

func (m *bpe) allBytes(s string) bool {
	for k := 0; k < len(s); k++ {
		if m.byteIDs[s[k]] < 0 {
			return false
		}
	}
	return true
}

// mergeAll merges symbols in place with a min-heap of candidate pairs keyed
// by (rank, position); an entry whose pair has changed since it was pushed
// is skipped when popped.
func (m *bpe) mergeAll(syms []symbol) {
	if len(syms) < 2 {
		return
	}
	h := make(candHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if r, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = append(h, mergeCand{r.rank, int32(i), r.newID})
		}
	}
	h.init()
	for len(h) > 0 {
		top := h.pop()
		left := &syms[top.pos]
		if left.size == 0 || left.next < 0 {
			continue
		}
		right := syms[left.next]
		if r, ok := m.merges[pairKey(left.id, right.id)]; !ok || r.newID != top.newID {
			continue
		}
		left.id = top.newID
		left.size += right.size
		syms[left.next].size = 0
		left.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if left.prev >= 0 {
			if r, ok := m.merges[pairKey(syms[left.prev].id, left.id)]; ok {
				h.push(mergeCand{r.rank, left.prev, r.newID})
			}
		}
		if left.next >= 0 {
			if r, ok := m.merges[pairKey(left.id, syms[left.next].id)]; ok {
				h.push(mergeCand{r.rank, top.pos, r.newID})
			}
		}
	}
}

// candHeap is a binary min-heap on (rank, pos).
type candHeap []mergeCand

func (h candHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h candHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *candHeap) push(c mergeCand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() mergeCand {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.down(0)
	return top
}

func (h candHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// idCache maps a pre-token to its ids. It stops growing at max entries and
// skips long pre-tokens, so memory stays bounded on any workload.
type idCache struct {
	mu  sync.RWMutex
	m   map[string][]int32
	max int
}

const (
	cacheEntries  = 1 << 16
	cacheMaxBytes = 256
)

func newIDCache() *idCache { return &idCache{m: make(map[string][]int32), max: cacheEntries} }

func (c *idCache) get(w string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *idCache) put(w string, ids []int32) {
	if len(w) >= cacheMaxBytes {
		return
	}
	c.mu.Lock()
	if len(c.m) < c.max {
		// Clone the key: w may be a slice of a long prompt, which the
		// cache would otherwise keep alive.
		c.m[strings.Clone(w)] = append([]int32(nil), ids...)
	}
	c.mu.Unlock()
}

// idTable maps ids back to token strings: a slice when the ids are dense, a
// map when a file uses a few huge ids.
type idTable struct {
	dense  []string
	has    []bool
	sparse map[int32]string
}

func newIDTable(vocab map[string]int32) idTable {
	maxID := int32(-1)
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	var t idTable
	if int(maxID) < 2*len(vocab)+1024 {
		t.dense = make([]string, maxID+1)
		t.has = make([]bool, maxID+1)
		for s, id := range vocab {
			t.dense[id], t.has[id] = s, true
		}
		return t
	}
	t.sparse = make(map[int32]string, len(vocab))
	for s, id := range vocab {
		t.sparse[id] = s
	}
	return t
}

func (t *idTable) get(id int32) (string, bool) {
	if t.sparse != nil {
		s, ok := t.sparse[id]
		return s, ok
	}
	if id < 0 || int(id) >= len(t.dense) || !t.has[id] {
		return "", false
	}
	return t.dense[id], true
}
