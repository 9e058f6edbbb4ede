package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
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

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
	file    *stFile
}

type stFile struct {
	path    string
	f       *os.File
	dataOff int64
	size    int64
}

// SafetensorsSource reads one or several .safetensors files.
type SafetensorsSource struct {
	files   []*stFile
	entries map[string]stEntry
}

// maxHeader bounds the JSON header so a corrupt length cannot ask for
// gigabytes before anything is checked.
const maxHeader = 100 << 20

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
		if err := s.add(p); err != nil {
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

func (s *SafetensorsSource) add(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open weights: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", path, err)
	}
	sf := &stFile{path: path, f: f, size: st.Size()}
	s.files = append(s.files, sf)
	var hdrLen uint64
	if err := binary.Read(f, binary.LittleEndian, &hdrLen); err != nil {
		return fmt.Errorf("%s: not a safetensors file (no header length): %w", path, err)
	}
	if hdrLen > maxHeader || int64(hdrLen)+8 > sf.size {
		return fmt.Errorf("%s: header length %d does not fit a file of %d bytes", path, hdrLen, sf.size)
	}
	hdr := make([]byte, hdrLen)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return fmt.Errorf("%s: read header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return fmt.Errorf("%s: parse header: %w", path, err)
	}
	sf.dataOff = 8 + int64(hdrLen)
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		es, err := dtypeSize(e.DType)
		if err != nil {
			return fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return fmt.Errorf("%s: tensor %s has negative shape %v", path, name, e.Shape)
			}
			n *= int64(d)
		}
		if e.Offsets[1]-e.Offsets[0] != n*es || e.Offsets[0] < 0 || sf.dataOff+e.Offsets[1] > sf.size {
			return fmt.Errorf("%s: tensor %s: offsets %v do not match shape %v of %s in a file of %d bytes", path, name, e.Offsets, e.Shape, e.DType, sf.size)
		}
		e.file = sf
		s.entries[name] = e
	}
	return nil
}

func dtypeSize(dt string) (int64, error) {
	switch dt {
	case "F32":
		return 4, nil
	case "F16", "BF16":
		return 2, nil
	}
	return 0, fmt.Errorf("dtype %s is not supported (F32, F16, BF16 are): %w", dt, ErrUnsupported)
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

func (s *SafetensorsSource) Tensor(name string) ([]float32, []int, bool, error) {
	e, ok := s.entries[name]
	if !ok {
		return nil, nil, false, nil
	}
	buf := make([]byte, e.Offsets[1]-e.Offsets[0])
	if _, err := e.file.f.ReadAt(buf, e.file.dataOff+e.Offsets[0]); err != nil {
		return nil, nil, true, fmt.Errorf("%s: read %s: %w", e.file.path, name, err)
	}
	var out []float32
	switch e.DType {
	case "F32":
		out = make([]float32, len(buf)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
	case "F16", "BF16":
		out = make([]float32, len(buf)/2)
		conv := kernels.F16ToF32
		if e.DType == "BF16" {
			conv = kernels.BF16ToF32
		}
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(buf[2*i:]))
		}
	}
	return out, e.Shape, true, nil
}

func (s *SafetensorsSource) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.f.Close(); err != nil && first == nil {
			first = err
		}
	}
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
