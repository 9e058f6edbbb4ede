package report

// MarkPartial marks the report as the work that finished before the
// command stopped (why: a signal's name or the error): its document's
// partial and stopped_by, and a note under its first table.
func (r *Report) MarkPartial(why string) {
	if h := r.header(); h != nil {
		h.Partial, h.StoppedBy = true, why
	}
	if len(r.Tables) > 0 && why != "" {
		t := r.Tables[0]
		t.Notes = append(t.Notes, "Stopped by "+why+": the numbers are those of the requests that finished.")
	}
}

// header is the document's header, where it has one.
func (r *Report) header() *Header {
	switch d := r.Doc.(type) {
	case Run:
		r.Doc = &d
		return &d.Header
	case Sweep:
		r.Doc = &d
		return &d.Header
	case Compare:
		r.Doc = &d
		return &d.Header
	case MemoryReport:
		r.Doc = &d
		return &d.Header
	case *Run:
		return &d.Header
	case *Sweep:
		return &d.Header
	case *Compare:
		return &d.Header
	case *MemoryReport:
		return &d.Header
	}
	return nil
}
