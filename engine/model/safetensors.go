package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"

	"benchtop/kernels"
)

// Source yields a checkpoint's tensors by name, widened to float32.
type Source interface {
	// Tensor returns the named tensor and its shape; ok is false when the
	// checkpoint has no tensor of that name.
	Tensor(name string) (data []float32, shape []int, ok bool, err error)
	Close() error
}

// stDType is one of the safetensors format's element types: its width in
// bits and, for the float types a weight can be read from, its decoder.
type stDType struct {
	bits   uint64
	decode func(b []byte, out []float32)
}

// stDTypes is every dtype of the format, so that every tensor's offsets are
// checked whatever its type; only a tensor the model reads must decode.
var stDTypes = map[string]stDType{
	"BOOL": {8, nil}, "U8": {8, nil}, "I8": {8, nil},
	"F8_E5M2": {8, nil}, "F8_E4M3": {8, nil}, "F8_E8M0": {8, nil},
	"F4": {4, nil}, "F6_E2M3": {6, nil}, "F6_E3M2": {6, nil},
	"I16": {16, nil}, "U16": {16, nil}, "I32": {32, nil}, "U32": {32, nil},
	"I64": {64, nil}, "U64": {64, nil}, "C64": {64, nil},
	"F16": {16, func(b []byte, out []float32) {
		for i := range out {
			out[i] = kernels.F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}},
	"BF16": {16, func(b []byte, out []float32) {
		for i := range out {
			out[i] = kernels.BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}},
	"F32": {32, func(b []byte, out []float32) {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}},
	"F64": {64, func(b []byte, out []float32) {
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}},
}

type stEntry struct {
	dtype      string
	shape      []int
	begin, end int64 // byte offsets into the file's data section
	numel      int
	file       *stFile
}

type stFile struct {
	path    string
	r       io.ReaderAt
	closer  io.Closer
	dataOff int64
}

// SafetensorsSource reads one or several .safetensors files.
type SafetensorsSource struct {
	files   []*stFile
	entries map[string]stEntry
}

// maxHeader bounds the JSON header (safetensors' own limit) so a corrupt
// length cannot ask for gigabytes before anything is checked.
const maxHeader = 100_000_000

// ErrBadSafetensors marks a file that is not a well-formed safetensors file.
var ErrBadSafetensors = errors.New("malformed safetensors file")

// OpenSafetensors opens the weights of a model folder: model.safetensors, or
// the shards listed by model.safetensors.index.json.
func OpenSafetensors(dir string) (*SafetensorsSource, error) {
	var paths []string
	index := filepath.Join(dir, "model.safetensors.index.json")
	if raw, err := os.ReadFile(index); err == nil {
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, fmt.Errorf("parse %s: %w", index, err)
		}
		seen := map[string]bool{}
		for _, f := range idx.WeightMap {
			if !seen[f] {
				seen[f] = true
				paths = append(paths, filepath.Join(dir, filepath.Base(f)))
			}
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s lists no shards", index)
		}
	} else if single := filepath.Join(dir, "model.safetensors"); fileExists(single) {
		paths = []string{single}
	} else {
		m, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if len(m) == 0 {
			hint := ""
			if fileExists(filepath.Join(dir, "pytorch_model.bin")) {
				hint = " (pytorch_model.bin is not read: save with safe_serialization=True)"
			}
			return nil, fmt.Errorf("model folder %s: no model.safetensors, model.safetensors.index.json or *.safetensors%s: %w", dir, hint, ErrUnsupported)
		}
		sort.Strings(m)
		paths = m
	}
	s := &SafetensorsSource{entries: map[string]stEntry{}}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open weights: %w", err)
		}
		st, err := f.Stat()
		if err == nil {
			err = s.add(p, f, f, st.Size())
		}
		if err != nil {
			f.Close()
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// add reads the header of one file of size bytes and indexes its tensors;
// closer (may be nil) is closed with the source.
func (s *SafetensorsSource) add(path string, r io.ReaderAt, closer io.Closer, size int64) error {
	entries, dataOff, err := readHeader(r, size)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sf := &stFile{path: path, r: r, closer: closer, dataOff: dataOff}
	s.files = append(s.files, sf)
	for name, e := range entries {
		if prev, dup := s.entries[name]; dup {
			return fmt.Errorf("%s: tensor %s is also in %s: %w", path, name, prev.file.path, ErrBadSafetensors)
		}
		e.file = sf
		s.entries[name] = e
	}
	return nil
}

// readHeader parses and checks a safetensors header: an 8-byte little-endian
// length, that many bytes of JSON mapping each tensor name to its dtype,
// shape and data_offsets. Every size is checked with overflow-safe
// arithmetic: the shape's element count times the dtype's width must equal
// the offsets' span, which must lie inside the file, and no two tensors may
// overlap.
func readHeader(r io.ReaderAt, size int64) (map[string]stEntry, int64, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, 0, fmt.Errorf("not a safetensors file (%d bytes, no header length): %w", size, ErrBadSafetensors)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, 0, fmt.Errorf("not a safetensors file (no header length): %w", ErrBadSafetensors)
	}
	hdrLen := binary.LittleEndian.Uint64(lenBuf[:])
	if hdrLen > maxHeader || hdrLen > uint64(size-8) {
		return nil, 0, fmt.Errorf("header length %d does not fit a file of %d bytes (at most %d): %w", hdrLen, size, maxHeader, ErrBadSafetensors)
	}
	hdr := make([]byte, hdrLen)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, 0, fmt.Errorf("parse header: %v: %w", err, ErrBadSafetensors)
	}
	dataOff := 8 + int64(hdrLen)
	dataLen := size - dataOff
	entries := make(map[string]stEntry, len(raw))
	var spans []stEntry
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		e, err := parseEntry(msg, dataLen)
		if err != nil {
			return nil, 0, fmt.Errorf("tensor %q: %w", name, err)
		}
		entries[name] = e
		spans = append(spans, e)
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end // an empty tensor first
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, 0, fmt.Errorf("tensors overlap at byte %d of the data: %w", spans[i].begin, ErrBadSafetensors)
		}
	}
	return entries, dataOff, nil
}

func parseEntry(msg json.RawMessage, dataLen int64) (stEntry, error) {
	var j struct {
		DType   string  `json:"dtype"`
		Shape   []int64 `json:"shape"`
		Offsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(msg, &j); err != nil {
		return stEntry{}, fmt.Errorf("%v: %w", err, ErrBadSafetensors)
	}
	dt, ok := stDTypes[j.DType]
	if !ok {
		return stEntry{}, fmt.Errorf("unknown dtype %q: %w", j.DType, ErrBadSafetensors)
	}
	if len(j.Offsets) != 2 {
		return stEntry{}, fmt.Errorf("data_offsets %v: want [begin, end]: %w", j.Offsets, ErrBadSafetensors)
	}
	// Element count × width in bits, each partial product checked against
	// the data's size: a count past it is already wrong, and is never
	// carried far enough to overflow.
	limit := uint64(math.MaxUint64)
	if dataLen < math.MaxInt64/8 {
		limit = uint64(dataLen) * 8
	}
	n := uint64(1)
	shape := make([]int, len(j.Shape))
	for i, d := range j.Shape {
		if d < 0 {
			return stEntry{}, fmt.Errorf("negative shape %v: %w", j.Shape, ErrBadSafetensors)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi2, lo2 := bits.Mul64(lo, dt.bits); hi != 0 || hi2 != 0 || lo2 > limit {
			return stEntry{}, fmt.Errorf("shape %v of %s needs more than the file's %d data bytes: %w", j.Shape, j.DType, dataLen, ErrBadSafetensors)
		}
		n, shape[i] = lo, int(d)
	}
	nbits := n * dt.bits
	if nbits%8 != 0 {
		return stEntry{}, fmt.Errorf("shape %v of %s is not a whole number of bytes: %w", j.Shape, j.DType, ErrBadSafetensors)
	}
	begin, end := j.Offsets[0], j.Offsets[1]
	switch {
	case begin < 0 || end < begin:
		return stEntry{}, fmt.Errorf("offsets %v are not a span: %w", j.Offsets, ErrBadSafetensors)
	case end > dataLen:
		return stEntry{}, fmt.Errorf("offsets %v reach past the file's %d data bytes: %w", j.Offsets, dataLen, ErrBadSafetensors)
	case uint64(end-begin) != nbits/8:
		return stEntry{}, fmt.Errorf("offsets %v span %d bytes; shape %v of %s takes %d: %w", j.Offsets, end-begin, j.Shape, j.DType, nbits/8, ErrBadSafetensors)
	}
	return stEntry{dtype: j.DType, shape: shape, begin: begin, end: end, numel: int(n)}, nil
}

// Names lists the tensors in the checkpoint.
func (s *SafetensorsSource) Names() []string {
	out := make([]string, 0, len(s.entries))
	for n := range s.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Tensor reads and widens the named tensor; a tensor of a dtype benchtop
// cannot read a weight from (integers, bools, fp8, fp4, ...) is an error
// here, when it is asked for, not when the file is opened.
func (s *SafetensorsSource) Tensor(name string) ([]float32, []int, bool, error) {
	e, ok := s.entries[name]
	if !ok {
		return nil, nil, false, nil
	}
	dt := stDTypes[e.dtype]
	if dt.decode == nil {
		return nil, nil, true, fmt.Errorf("%s: tensor %s has dtype %s; weights are read from F32, F16, BF16 or F64: %w", e.file.path, name, e.dtype, ErrUnsupported)
	}
	buf := make([]byte, e.end-e.begin)
	if _, err := e.file.r.ReadAt(buf, e.file.dataOff+e.begin); err != nil {
		return nil, nil, true, fmt.Errorf("%s: read %s: %w", e.file.path, name, err)
	}
	out := make([]float32, e.numel)
	dt.decode(buf, out)
	return out, append([]int(nil), e.shape...), true, nil
}

func (s *SafetensorsSource) Close() error {
	var first error
	for _, f := range s.files {
		if f.closer == nil {
			continue
		}
		if err := f.closer.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.files = nil
	return first
}

// WriteSafetensors writes tensors (fp32, or fp16/bf16 when dt says so) as
// one safetensors file; tests use it to build model folders.
func WriteSafetensors(path string, dt kernels.DType, tensors map[string][]float32, shapes map[string][]int) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	hdr := map[string]any{}
	var off int64
	es := int64(dt.Size())
	tag := map[kernels.DType]string{kernels.F32: "F32", kernels.F16: "F16", kernels.BF16: "BF16"}[dt]
	for _, n := range names {
		sz := int64(len(tensors[n])) * es
		hdr[n] = map[string]any{"dtype": tag, "shape": shapes[n], "data_offsets": []int64{off, off + sz}}
		off += sz
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 0, 8+len(h)+int(off))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, n := range names {
		for _, v := range tensors[n] {
			switch dt {
			case kernels.F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			case kernels.F16:
				buf = binary.LittleEndian.AppendUint16(buf, kernels.F32ToF16(v))
			case kernels.BF16:
				buf = binary.LittleEndian.AppendUint16(buf, kernels.F32ToBF16(v))
			}
		}
	}
	return os.WriteFile(path, buf, 0o644)
}
