package cuda

import (
	"embed"
	"fmt"
	"math"
	"path"
	"strings"
	"unsafe"

	"benchtop/kernels"
)

//go:embed ptx/*.ptx
var ptxFS embed.FS

// kernelsIn maps each PTX module to the kernels it defines.
var kernelsIn = map[string][]string{
	"embed":             halves("embed"),
	"layernorm":         halves("layernorm", "residual_layernorm"),
	"rmsnorm":           halves("residual_rmsnorm"),
	"elementwise":       halves("bias_act"),
	"swiglu":            halves("swiglu"),
	"kv_write":          halves("qkv_prep"),
	"attention":         {"paged_attention"}, // the A/B benchmark's baseline
	"attention_decode":  attnDecodeNames,
	"attention_prefill": attnPrefillNames,
	"gather":            {"gather_rows"},
	"sample":            {"sample"},
	"sample_legacy":     {"sample_legacy"}, // the A/B baseline (BENCHTOP_SAMPLE=legacy)
}

// halves lists the fp16 and bf16 instantiations of each kernel (see kname).
func halves(bases ...string) []string {
	var out []string
	for _, b := range bases {
		out = append(out, kname(b, kernels.F16), kname(b, kernels.BF16))
	}
	return out
}

const attrMaxDynamicShared = 8 // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES

func (b *Backend) loadModules() error {
	for mod, fns := range kernelsIn {
		src, err := ptxFS.ReadFile(path.Join("ptx", mod+".ptx"))
		if err != nil {
			return fmt.Errorf("embedded PTX %s: %w", mod, err)
		}
		img := append(src, 0)
		var m uintptr
		if err := b.d.check(b.d.cuModuleLoadData(&m, unsafe.Pointer(&img[0])), "load PTX module "+mod); err != nil {
			return err
		}
		b.mods[mod] = m
		for _, f := range fns {
			name := append([]byte(f), 0)
			var fn uintptr
			if err := b.d.check(b.d.cuModuleGetFunction(&fn, m, &name[0]), "kernel "+f); err != nil {
				return err
			}
			b.fns[f] = fn
		}
	}
	// Layer norm stages a row in shared memory: allow rows of up to 24k.
	for _, f := range halves("layernorm", "residual_layernorm") {
		if err := b.d.check(b.d.cuFuncSetAttribute(b.fns[f], attrMaxDynamicShared, 96<<10), f+" shared memory"); err != nil {
			return err
		}
	}
	if err := b.initAttention(); err != nil {
		return err
	}
	return b.initFused()
}

// argArena is pinned host memory holding one launch's parameters: the
// values, then the array of pointers to them that cuLaunchKernel reads.
type argArena struct {
	host unsafe.Pointer
}

const arenaBytes = 4096

func newArgArena(d *driver) (*argArena, error) {
	a := &argArena{}
	if err := d.check(d.cuMemAllocHost(&a.host, arenaBytes), "cuMemAllocHost (kernel arguments)"); err != nil {
		return nil, err
	}
	return a, nil
}

type dim3 [3]uint32

// launch enqueues a kernel on the stream; an error names the kernel and its
// geometry. Arguments are device pointers (uintptr) or scalars.
func (b *Backend) launch(name string, grid, block dim3, shmem uint32, args ...any) error {
	label := name
	if b.profLabel != "" {
		label, b.profLabel = b.profLabel, ""
	}
	fn, ok := b.fns[name]
	if !ok {
		return fmt.Errorf("kernel %s is not loaded", name)
	}
	if grid[0] == 0 || grid[1] == 0 || grid[2] == 0 {
		return nil // nothing to do
	}
	if len(args) > 32 {
		return fmt.Errorf("kernel %s: %d arguments", name, len(args))
	}
	if b.prof != nil && !b.capture {
		b.prof.begin(label)
		defer b.prof.end()
	}
	vals := unsafe.Slice((*uint64)(b.args.host), 32)
	ptrs := unsafe.Slice((*unsafe.Pointer)(unsafe.Add(b.args.host, 32*8)), 32)
	for i, a := range args {
		switch v := a.(type) {
		case uintptr:
			vals[i] = uint64(v)
		case int:
			*(*int32)(unsafe.Pointer(&vals[i])) = int32(v)
		case int32:
			*(*int32)(unsafe.Pointer(&vals[i])) = v
		case int64:
			vals[i] = uint64(v)
		case uint64:
			vals[i] = v
		case float32:
			*(*uint32)(unsafe.Pointer(&vals[i])) = math.Float32bits(v)
		default:
			return fmt.Errorf("kernel %s: argument %d has type %T", name, i, a)
		}
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	r := b.d.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], shmem, b.stream,
		unsafe.Pointer(&ptrs[0]), nil)
	if r != 0 {
		return b.d.check(r, fmt.Sprintf("launch %s grid (%d,%d,%d) block (%d,%d,%d) shared %d", name,
			grid[0], grid[1], grid[2], block[0], block[1], block[2], shmem))
	}
	return nil
}

// ptxNames lists the embedded modules (for tests).
func ptxNames() []string {
	var out []string
	entries, _ := ptxFS.ReadDir("ptx")
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".ptx"))
	}
	return out
}
