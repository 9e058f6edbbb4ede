package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"benchtop/kernels"
)

// fromBytes indexes a safetensors file held in memory.
func fromBytes(data []byte) (*SafetensorsSource, error) {
	s := &SafetensorsSource{entries: map[string]stEntry{}}
	return s, s.add("mem.safetensors", bytes.NewReader(data), nil, int64(len(data)))
}

// withHeader is a file of the given header JSON followed by n data bytes.
func withHeader(hdr string, n int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(b, hdr...), make([]byte, n)...)
}

// The 153-byte file of issue 13: a shape whose byte count overflows int64
// and offsets that overflow when added to the header's length.
const hugeShape = `{"w":{"dtype":"F32","shape":[2305843009213693951],"data_offsets":[0,9223372036854775804]},"__metadata__":{"a":"b"}}`

func TestSafetensorsRejectsMalformedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"huge shape (issue 13)", withHeader(hugeShape, 8), "needs more than the file's 8 data bytes"},
		{"shape product overflows", withHeader(`{"w":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}`, 0), "needs more than"},
		{"zero dim hides a huge one", withHeader(`{"w":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,4]}}`, 4), "span 4 bytes; shape"},
		{"negative dim", withHeader(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "negative shape"},
		{"offsets past the end", withHeader(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 4), "reach past the file's 4 data bytes"},
		{"negative offset", withHeader(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), "not a span"},
		{"three offsets", withHeader(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8), "want [begin, end]"},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "overlap"},
		{"unknown dtype", withHeader(`{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, 16), `unknown dtype "F128"`},
		{"half a byte", withHeader(`{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, 2), "not a whole number of bytes"},
		{"header longer than the file", binary.LittleEndian.AppendUint64(nil, 1000), "does not fit a file of 8 bytes"},
		{"header over the limit", append(binary.LittleEndian.AppendUint64(nil, 200_000_000), make([]byte, 16)...), "does not fit"},
		{"header length overflows", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "does not fit"},
		{"short", []byte{1, 2, 3}, "no header length"},
		{"not json", withHeader(`{"w":`, 0), "parse header"},
		{"entry not an object", withHeader(`{"w":3}`, 0), "tensor \"w\""},
		{"float shape", withHeader(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), "tensor \"w\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fromBytes(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrBadSafetensors) && !strings.Contains(tc.name, "short") {
				t.Fatalf("error %v is not ErrBadSafetensors", err)
			}
		})
	}
}

// Every dtype of the format is recognised, so its offsets are checked; a
// tensor is an error only when it is read and cannot become a weight.
func TestSafetensorsEveryDType(t *testing.T) {
	hdr := map[string]any{}
	var data []byte
	add := func(name, dt string, shape []int, raw []byte) {
		hdr[name] = map[string]any{"dtype": dt, "shape": shape, "data_offsets": []int{len(data), len(data) + len(raw)}}
		data = append(data, raw...)
	}
	for dt, info := range stDTypes {
		add("x_"+dt, dt, []int{2, 4}, make([]byte, 8*info.bits/8))
	}
	add("scalar", "F32", []int{}, binary.LittleEndian.AppendUint32(nil, math.Float32bits(2.5)))
	add("empty", "BF16", []int{0, 3}, nil)
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(-1.25))
	add("f64", "F64", []int{1}, f64)
	raw, _ := json.Marshal(hdr)
	s, err := fromBytes(withHeader(string(raw), 0)[:8+len(raw)])
	if err == nil {
		t.Fatal("a file without its data opened")
	}
	s, err = fromBytes(append(withHeader(string(raw), 0), data...))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Names()); got != len(stDTypes)+3 {
		t.Fatalf("%d tensors, want %d", got, len(stDTypes)+3)
	}
	for _, name := range []string{"x_I64", "x_BOOL", "x_F8_E4M3", "x_F4", "x_C64", "x_U8"} {
		if _, _, ok, err := s.Tensor(name); !ok || err == nil || !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%s: ok %v, err %v", name, ok, err)
		}
	}
	for name, want := range map[string][]float32{"f64": {-1.25}, "scalar": {2.5}, "empty": {}} {
		v, _, ok, err := s.Tensor(name)
		if !ok || err != nil || len(v) != len(want) || (len(v) > 0 && v[0] != want[0]) {
			t.Fatalf("%s: %v %v %v", name, v, ok, err)
		}
	}
}

func TestSafetensorsDuplicateAcrossShards(t *testing.T) {
	dir := t.TempDir()
	one := []rawTensor{encodeTensor("w", 0, []float32{1}, []int{1})}
	writeRaw(t, filepath.Join(dir, "a.safetensors"), one)
	writeRaw(t, filepath.Join(dir, "b.safetensors"), one)
	if _, err := OpenSafetensors(dir); err == nil || !strings.Contains(err.Error(), "tensor w is also in") {
		t.Fatalf("duplicate tensor: %v", err)
	}
	os.Remove(filepath.Join(dir, "b.safetensors"))
	s, err := OpenSafetensors(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// FuzzSafetensorsHeader: no file makes the reader panic or read outside
// the file, and whatever it accepts it can read back.
func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(withHeader(hugeShape, 8))
	f.Add(withHeader(`{"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}`, 16))
	f.Add(withHeader(`{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]},"__metadata__":{"format":"pt"}}`, 1))
	f.Add(withHeader(`{"w":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}}`, 2))
	f.Add(withHeader(`{"w":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}}`, 0))
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := fromBytes(data)
		if err != nil {
			return
		}
		for _, name := range s.Names() {
			e := s.entries[name]
			if e.begin < 0 || e.end < e.begin || e.file.dataOff+e.end > int64(len(data)) {
				t.Fatalf("tensor %s at %d..%d outside a file of %d bytes", name, e.begin, e.end, len(data))
			}
			v, _, ok, err := s.Tensor(name)
			if !ok || (err == nil && len(v) != e.numel) {
				t.Fatalf("tensor %s: %d values of %d, ok %v, err %v", name, len(v), e.numel, ok, err)
			}
		}
	})
}

// FuzzConfig: no config.json makes parsing panic, and one it accepts has
// sizes every later computation can use without overflow.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"opt"}`))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":2048,"num_attention_heads":32,"num_key_value_heads":8,"head_dim":64,"intermediate_size":8192,"num_hidden_layers":16,"vocab_size":128256,"max_position_embeddings":131072,"rope_theta":500000.0,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"tie_word_embeddings":true,"torch_dtype":"bfloat16","bos_token_id":128000,"eos_token_id":[128001,128008,128009]}`))
	f.Add([]byte(`{"architectures":["Qwen3ForCausalLM"],"hidden_size":1024,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,"intermediate_size":3072,"num_hidden_layers":28,"vocab_size":151936,"rope_parameters":{"rope_type":"default","rope_theta":1000000},"dtype":"bfloat16","bos_token_id":null}`))
	f.Add([]byte(`{"architectures":["MistralForCausalLM"],"sliding_window":4096,"rope_scaling":{"type":"yarn","factor":4}}`))
	f.Add([]byte(`{"architectures":["Qwen2ForCausalLM"],"hidden_size":1099511627776,"num_attention_heads":0}`))
	f.Add([]byte(`{"model_type":"opt","hidden_size":-8,"ffn_dim":1e300}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseConfig(raw, "fuzz")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config fails validation: %v", err)
		}
		if c.ParamCount() <= 0 || c.KVBytesPerToken(kernels.BF16) <= 0 || c.MatmulFLOPsPerToken() <= 0 || c.AttnShape().Validate() != nil {
			t.Fatalf("sizes: params %d, KV bytes %d, shape %+v", c.ParamCount(), c.KVBytesPerToken(kernels.BF16), c.AttnShape())
		}
		if c.IsLlama() {
			for i, f := range c.InvFreq() {
				if !(f > 0) || math.IsInf(float64(f), 0) {
					t.Fatalf("inv_freq[%d] = %g", i, f)
				}
			}
		}
		if _, err := checkpointTensors(c); err != nil {
			t.Fatal(err)
		}
	})
}
