package tokenizer

import (
	"encoding/json"
	"fmt"
)

// truncation is tokenizer.json's "truncation" for one sequence: the ids
// are cut to maxLength (less the special tokens when they are added),
// keeping the start (direction Right) or the end (Left). The overflow HF
// keeps beside the encoding is dropped.
type truncation struct {
	maxLength  int
	stride     int
	left       bool
	onlySecond bool // OnlySecond: an error whenever cutting is needed, as HF's
}

func parseTruncation(raw json.RawMessage) (*truncation, error) {
	var v struct {
		Direction *string `json:"direction"`
		MaxLength *uint32 `json:"max_length"`
		Strategy  *string `json:"strategy"`
		Stride    *uint32 `json:"stride"`
	}
	if err := strictFields(raw, &v, "max_length", "strategy", "stride"); err != nil {
		return nil, err
	}
	tr := &truncation{maxLength: int(*v.MaxLength), stride: int(*v.Stride)}
	switch *v.Strategy {
	case "LongestFirst", "OnlyFirst":
	case "OnlySecond":
		tr.onlySecond = true
	default:
		return nil, fmt.Errorf("strategy %q (want LongestFirst, OnlyFirst or OnlySecond)", *v.Strategy)
	}
	if v.Direction != nil {
		var err error
		if tr.left, err = parseLeft(*v.Direction); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

// parseLeft reads a truncation or padding direction: true for "Left".
func parseLeft(direction string) (bool, error) {
	switch direction {
	case "Right":
		return false, nil
	case "Left":
		return true, nil
	}
	return false, fmt.Errorf("direction %q (want Right or Left)", direction)
}

// apply cuts ids to the limit; added is how many special tokens the
// post-processor is about to add.
func (tr *truncation) apply(ids []int32, added int) ([]int32, error) {
	limit := tr.maxLength
	if added > 0 {
		limit -= added
		if limit < 0 {
			return nil, fmt.Errorf("%w: truncation max_length %d is less than the %d special tokens", ErrMalformed, tr.maxLength, added)
		}
	}
	if limit == 0 {
		return ids[:0], nil
	}
	if len(ids) <= limit {
		return ids, nil
	}
	if tr.onlySecond {
		return nil, fmt.Errorf("%w: truncation strategy OnlySecond needs a second sequence", ErrUnsupported)
	}
	if tr.stride >= limit {
		return nil, fmt.Errorf("%w: truncation stride %d is not below the length %d it cuts to", ErrMalformed, tr.stride, limit)
	}
	if tr.left {
		return ids[len(ids)-limit:], nil
	}
	return ids[:limit], nil
}

// padding is tokenizer.json's "padding" for one sequence: pad_id repeated
// up to a fixed length (or the sequence's own, for BatchLongest), rounded
// up to pad_to_multiple_of.
type padding struct {
	fixed    int // 0: BatchLongest
	multiple int
	padID    int32
	left     bool
}

func parsePadding(raw json.RawMessage) (*padding, error) {
	var v struct {
		Strategy  json.RawMessage `json:"strategy"`
		Direction *string         `json:"direction"`
		Multiple  *uint32         `json:"pad_to_multiple_of"`
		PadID     *uint32         `json:"pad_id"`
	}
	if err := strictFields(raw, &v, "strategy", "direction", "pad_id"); err != nil {
		return nil, err
	}
	p := &padding{}
	var s string
	var fixed struct {
		Fixed *uint32 `json:"Fixed"`
	}
	switch {
	case json.Unmarshal(v.Strategy, &s) == nil && s == "BatchLongest":
	case json.Unmarshal(v.Strategy, &fixed) == nil && fixed.Fixed != nil:
		if *fixed.Fixed > 1<<24 {
			return nil, fmt.Errorf("strategy Fixed(%d) is too long", *fixed.Fixed)
		}
		p.fixed = int(*fixed.Fixed)
	default:
		return nil, fmt.Errorf("strategy %s (want \"BatchLongest\" or {\"Fixed\": n})", v.Strategy)
	}
	var err error
	if p.left, err = parseLeft(*v.Direction); err != nil {
		return nil, err
	}
	if v.Multiple != nil {
		if *v.Multiple > 1<<24 {
			return nil, fmt.Errorf("pad_to_multiple_of %d is too large", *v.Multiple)
		}
		p.multiple = int(*v.Multiple)
	}
	if *v.PadID > maxID {
		return nil, fmt.Errorf("pad_id %d is too large", *v.PadID)
	}
	p.padID = int32(*v.PadID)
	return p, nil
}

func (p *padding) apply(ids []int32) []int32 {
	target := len(ids)
	if p.fixed > 0 {
		target = p.fixed
	}
	if p.multiple > 0 && target%p.multiple > 0 {
		target += p.multiple - target%p.multiple
	}
	if len(ids) >= target {
		return ids
	}
	pad := make([]int32, target-len(ids))
	for i := range pad {
		pad[i] = p.padID
	}
	if p.left {
		return append(pad, ids...)
	}
	return append(ids, pad...)
}
