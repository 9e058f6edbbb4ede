package tokenizer

// SpecialAround returns the ids the post-processor puts before and after a
// single sequence when special tokens are asked for (Encode's addSpecial):
// Llama 3's <|begin_of_text|> before, nothing for Qwen's ByteLevel. ok is
// false when the file has no post-processor.
func (t *Tokenizer) SpecialAround() (before, after []int32, ok bool) {
	if t.post == nil {
		return nil, nil, false
	}
	// Every id a processor adds is at least 0, so -1 marks the sequence.
	out := t.post.process([]int32{-1}, true)
	for i, id := range out {
		if id == -1 {
			return append([]int32{}, out[:i]...), append([]int32{}, out[i+1:]...), true
		}
	}
	return nil, nil, true // unreachable: processors keep the sequence
}

// MaxID is the largest id Encode can return: the largest of the model's
// vocabulary and the added tokens' (-1 for an empty vocabulary).
func (t *Tokenizer) MaxID() int32 {
	m := int32(-1)
	if t.model.vocabR.sparse != nil {
		for id := range t.model.vocabR.sparse {
			m = max(m, id)
		}
	} else {
		m = int32(len(t.model.vocabR.dense)) - 1
	}
	for id := range t.added.byID {
		m = max(m, id)
	}
	return m
}
