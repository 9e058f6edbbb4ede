// Package tui is benchtop's live dashboard, a bubbletea v2 program over a
// Controller (a session: the running target and its workload) or over a
// reopened snapshot's frame.
//
// The model loads the session's published Frame on its own tick (10 frames
// a second at most) and derives everything it draws there and on resize —
// the charts' series, the bottleneck (session.Diagnose), the clock and the
// step in progress at the frame's time, J per token, the keys that apply —
// so drawing never slows an engine step and View only reads. Keys become
// commands that call the controller off the UI goroutine and come back as
// messages; nothing here waits for the engine, so q leaves at once whatever
// a step is doing (the command line then finishes the step).
//
// Layout: every screen fits from 80×24 up. Lines are built from parts with
// priorities (layout.go): a part takes a shorter form, is cut at a word
// boundary or leaves, least important first, so no word is cut in two. The
// legend is bubbles' short help and ? its full help, both from the KeyMap;
// keys that cannot act on the frame (a snapshot, a remote target without
// settings controls, the always-eager CPU, a failed engine) are disabled,
// so they neither show nor match; a key that would change nothing says so
// and calls nothing. Missing values show "—". A panel of per-source rows
// (tui/sources.go) plugs in through sourcesPanel.
package tui
