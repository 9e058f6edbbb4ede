package tui

import (
	"fmt"
	"time"

	"benchtop/session"
)

// derived is what the model computes from the frame on the tick and on
// resize, so that View only reads.
type derived struct {
	panels     []series
	bottleneck session.Bottleneck
	elapsed    time.Duration // the session clock at the frame's time
	stepFor    time.Duration // the step or rebuild in progress, at the frame's time
	jPerToken  string        // "0.21 J/tok" from NVML, "" without
}

// derive refreshes the derived state and the keys that apply.
func (m *Model) derive() {
	m.keys = m.keys.forFrame(m.frame, m.ctrl != nil, m.mode())
	f := m.frame
	if f == nil {
		m.d = derived{}
		return
	}
	var d derived
	if s := f.Metrics; s != nil {
		d.elapsed = s.Elapsed
		if !f.ReadOnly && !f.Time.IsZero() && f.Time.After(s.Start) {
			d.elapsed = f.Time.Sub(s.Start) // the frame's clock moves even while no event comes
		}
		if s.OutputTPS > 0 && s.Window > 0 {
			if w, _, ok := f.GPU.Power(s.WindowEnd.Add(-s.Window), s.WindowEnd); ok {
				d.jPerToken = joulesPerToken(w / s.OutputTPS)
			}
		}
	}
	d.stepFor = f.Progress.For(f.Time)
	d.bottleneck = session.Diagnose(f)
	l := m.layout()
	ps := m.buildPanels(l.maxGPUs)
	for i := range ps {
		ps[i] = ps[i].fitTo(l.colW)
	}
	d.panels = ps
	m.d = d
}

// layoutSizes is how the screen splits.
type layoutSizes struct {
	numbers int // lines of numbers under the rule
	bodyH   int // rows for the charts (and the sources panel)
	colW    int // a chart's width
	maxGPUs int // GPUs that get a row of panels
}

func (m Model) layout() layoutSizes {
	l := layoutSizes{numbers: 6, colW: (m.width - 1) / 2}
	if m.height >= 30 {
		l.numbers = 8
	}
	l.bodyH = m.height - 2 - 1 - 1 - l.numbers // header, footer, rule
	l.maxGPUs = max(1, l.bodyH/4-2)
	return l
}

// joulesPerToken is energy per output token in J, or mJ below one.
func joulesPerToken(j float64) string {
	if j < 1 {
		return fmt.Sprintf("%.3g mJ/tok", 1e3*j)
	}
	return fmt.Sprintf("%.3g J/tok", j)
}
