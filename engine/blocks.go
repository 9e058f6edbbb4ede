package engine

import (
	"errors"
	"fmt"
)

// ErrNoFreeBlocks is the expected "out of KV cache blocks" condition; the
// scheduler answers it with preemption.
var ErrNoFreeBlocks = errors.New("out of KV cache blocks")

// BlockManager owns the paged KV pool's free list and per-block reference
// counts. Allocation and free are O(1) per block.
type BlockManager struct {
	blockSize int
	free      []int32 // stack of free block ids
	refs      []int32
}

// NewBlockManager returns a manager of numBlocks blocks of blockSize tokens.
func NewBlockManager(numBlocks, blockSize int) *BlockManager {
	m := &BlockManager{blockSize: blockSize, free: make([]int32, numBlocks), refs: make([]int32, numBlocks)}
	for i := range m.free {
		m.free[i] = int32(numBlocks - 1 - i) // pop hands out block 0 first
	}
	return m
}

func (m *BlockManager) BlockSize() int { return m.blockSize }
func (m *BlockManager) NumBlocks() int { return len(m.refs) }
func (m *BlockManager) NumFree() int   { return len(m.free) }
func (m *BlockManager) NumUsed() int   { return len(m.refs) - len(m.free) }

// BlocksFor is how many blocks numTokens tokens occupy.
func (m *BlockManager) BlocksFor(numTokens int) int {
	return (numTokens + m.blockSize - 1) / m.blockSize
}

// Grow gives seq enough blocks to hold numTokens tokens. It allocates all
// the blocks it needs or none, returning ErrNoFreeBlocks.
func (m *BlockManager) Grow(seq *Sequence, numTokens int) error {
	need := m.BlocksFor(numTokens) - len(seq.Blocks)
	if need <= 0 {
		return nil
	}
	if need > len(m.free) {
		return ErrNoFreeBlocks
	}
	for range need {
		b := m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		m.refs[b]++
		seq.Blocks = append(seq.Blocks, b)
	}
	return nil
}

// Release returns every block of seq to the free list.
func (m *BlockManager) Release(seq *Sequence) error {
	for _, b := range seq.Blocks {
		if b < 0 || int(b) >= len(m.refs) || m.refs[b] <= 0 {
			return fmt.Errorf("release block %d of request %s: not allocated (double free)", b, seq.Req.ID)
		}
		m.refs[b]--
		if m.refs[b] == 0 {
			m.free = append(m.free, b)
		}
	}
	seq.Blocks = seq.Blocks[:0]
	return nil
}
