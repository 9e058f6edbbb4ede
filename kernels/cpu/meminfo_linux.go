package cpu

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

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

// memAvailable reads the "MemAvailable: N kB" line of /proc/meminfo.
func memAvailable(raw []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "MemAvailable:" {
			n, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil || n < 0 || n > 1<<53 {
				return 0, false
			}
			if len(f) >= 3 && string(f[2]) == "kB" {
				n *= 1024
			}
			return n, true
		}
	}
	return 0, false
}
