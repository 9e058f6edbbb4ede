package gpumon

import (
	"os"
	"runtime"

	"github.com/shirou/gopsutil/v4/process"
)

// Process is this process's CPU use and resident memory at one moment,
// read with gopsutil: what the GPU panels show where there is no NVML. An
// unknown field is -1.
type Process struct {
	// CPUPct is the CPU time used since the previous sample over the wall
	// time, in percent of one core (200 is two cores busy), as top counts.
	CPUPct   float64 `json:"cpu_pct"`
	Cores    int     `json:"cores"` // logical CPUs of the machine
	RSSBytes int64   `json:"rss_bytes"`
}

// Share is the CPU use in percent of every core (0-100), -1 when unknown.
func (p Process) Share() float64 {
	if p.CPUPct < 0 || p.Cores <= 0 {
		return -1
	}
	return p.CPUPct / float64(p.Cores)
}

// ProcessSource reads this process's counters.
type ProcessSource interface{ Read() Process }

// selfProcess reads the running process through gopsutil.
type selfProcess struct {
	p     *process.Process
	first bool
}

// NewProcessSource reads the running process; nil where gopsutil cannot
// open it.
func NewProcessSource() ProcessSource {
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		return nil
	}
	return &selfProcess{p: p, first: true}
}

func (s *selfProcess) Read() Process {
	out := Process{CPUPct: -1, Cores: runtime.NumCPU(), RSSBytes: -1}
	// Percent(0) is the use since the previous call; the first has none.
	if pct, err := s.p.Percent(0); err == nil && !s.first {
		out.CPUPct = pct
	}
	s.first = false
	if m, err := s.p.MemoryInfo(); err == nil {
		out.RSSBytes = int64(m.RSS)
	}
	return out
}
