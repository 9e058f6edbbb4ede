// Package tui is benchtop's live dashboard, a bubbletea v2 program over a
// Controller (the running engine and its workload, or a reopened snapshot).
//
// The model pulls a snapshot.Frame from the controller on its own tick (10
// frames a second at most), so drawing never slows an engine step; View
// only reads state. Keys become commands that call the controller off the
// UI goroutine and come back as messages.
package tui
