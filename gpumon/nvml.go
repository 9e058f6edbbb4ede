//go:build cgo

package gpumon

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// nvmlLib is NVML through go-nvml, which loads libnvidia-ml at run time.
type nvmlLib struct {
	devs []nvml.Device
	have map[string]bool
}

func nvmlSource() Source { return &nvmlLib{} }

// optional are the NVML functions read per device; each is looked up first,
// since calling one the driver does not export kills the process.
var optional = []string{"nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetPowerUsage",
	"nvmlDeviceGetTemperature", "nvmlDeviceGetClockInfo", "nvmlDeviceGetName", "nvmlDeviceGetTotalEnergyConsumption"}

func (l *nvmlLib) Open() (string, int, error) {
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return "", 0, fmt.Errorf("no NVML: %s", nvml.ErrorString(ret))
	}
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS || n == 0 {
		nvml.Shutdown()
		return "", 0, fmt.Errorf("NVML sees no GPU (%s)", nvml.ErrorString(ret))
	}
	l.have = map[string]bool{}
	for _, name := range optional {
		l.have[name] = nvml.Extensions().LookupSymbol(name) == nil
	}
	driver, _ := nvml.SystemGetDriverVersion()
	for i := 0; i < n; i++ {
		if d, ret := nvml.DeviceGetHandleByIndex(i); ret == nvml.SUCCESS {
			l.devs = append(l.devs, d)
		}
	}
	return driver, len(l.devs), nil
}

func (l *nvmlLib) Close() { nvml.Shutdown() }

func (l *nvmlLib) Read(i int) GPU {
	d, have := l.devs[i], l.have
	g := GPU{Index: i, UtilPct: -1, MemUsedBytes: -1, MemTotalBytes: -1, PowerW: -1, TempC: -1, SMClockMHz: -1, EnergyJ: -1}
	if have["nvmlDeviceGetName"] {
		if name, ret := d.GetName(); ret == nvml.SUCCESS {
			g.Name = name
		}
	}
	if have["nvmlDeviceGetUtilizationRates"] {
		if u, ret := d.GetUtilizationRates(); ret == nvml.SUCCESS {
			g.UtilPct = float64(u.Gpu)
		}
	}
	if have["nvmlDeviceGetMemoryInfo"] {
		if m, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			g.MemUsedBytes, g.MemTotalBytes = int64(m.Used), int64(m.Total)
		}
	}
	if have["nvmlDeviceGetPowerUsage"] {
		if p, ret := d.GetPowerUsage(); ret == nvml.SUCCESS {
			g.PowerW = float64(p) / 1000
		}
	}
	if have["nvmlDeviceGetTotalEnergyConsumption"] { // millijoules since the driver loaded
		if e, ret := d.GetTotalEnergyConsumption(); ret == nvml.SUCCESS {
			g.EnergyJ = float64(e) / 1000
		}
	}
	if have["nvmlDeviceGetTemperature"] {
		if c, ret := d.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS {
			g.TempC = float64(c)
		}
	}
	if have["nvmlDeviceGetClockInfo"] {
		if c, ret := d.GetClockInfo(nvml.CLOCK_SM); ret == nvml.SUCCESS {
			g.SMClockMHz = float64(c)
		}
	}
	return g
}
