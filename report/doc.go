// Package report renders results: text tables, charts as text for the
// terminal and as SVG for the HTML page, the HTML page itself, and the typed
// JSON documents every headless command writes (snake_case fields, empty
// lists as [], durations in nanoseconds with an _ns suffix, the tutorial's
// MetricsCollector fields under their own names). Files are written whole
// or not at all (WriteFile).
package report
