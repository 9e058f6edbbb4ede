// Package tui is benchtop's live dashboard, a bubbletea v2 program over a
// Controller (a session: the running target and its workload) or over a
// reopened snapshot's frame.
//
// The model loads the session's published Frame on its own tick (10 frames
// a second at most) and derives the charts' series there and on resize, so
// drawing never slows an engine step and View only reads. Keys become
// commands that call the controller off the UI goroutine and come back as
// messages; keys for settings the target does not take do nothing.
package tui
