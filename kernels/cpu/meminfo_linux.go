package cpu

import (
	"os"

	"golang.org/x/sys/unix"
)

// AvailableMemory is the memory the machine can give a new allocation
// without swapping: MemAvailable from /proc/meminfo, else free plus buffer
// memory from sysinfo(2). known is false when neither can be read.
func AvailableMemory() (bytes int64, source string, known bool) {
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		if n, ok := memAvailable(raw); ok {
			return n, "MemAvailable in /proc/meminfo", true
		}
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err == nil {
		unit := max(int64(si.Unit), 1)
		return (int64(si.Freeram) + int64(si.Bufferram)) * unit, "free and buffer memory from sysinfo", true
	}
	return 0, "", false
}
