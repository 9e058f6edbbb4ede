package session

import "benchtop/report"

// Outcomes are the requests since the start (or the last reset) that
// failed (rejected, aborted, errored) and that were cut short at
// max_model_len, and both by finish reason (failures first), from the
// collector's counts in the frame: what the dashboard shows beside the
// finished requests. Examples are empty (the frame keeps no records).
func (f *Frame) Outcomes() (failed, truncated int, byReason []report.Failure) {
	if f == nil || f.Metrics == nil {
		return 0, 0, []report.Failure{}
	}
	failed, truncated = report.CountFinishes(f.Metrics.Finishes)
	return failed, truncated, report.FailuresOf(f.Metrics.Finishes, nil)
}
