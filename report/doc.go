// Package report renders results: text tables, charts as text for the
// terminal and as SVG for the HTML page, the HTML page itself, and the typed
// JSON documents every headless command writes (snake_case fields, empty
// lists as [], durations in nanoseconds with an _ns suffix, the tutorial's
// MetricsCollector fields under their own names; failed and truncated
// requests by reason; partial and stopped_by for a command that stopped
// early). Files are written whole or not at all (WriteFile, through
// renameio), and so are sets of files (WriteSet: staged whole, renamed into
// place with their manifest last); stale temporary files of killed writes
// are removed by later ones (CleanStale).
package report
