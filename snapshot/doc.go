// Package snapshot is the data of a benchtop session as the dashboard shows
// it and as it is exported: a Frame (the latest metrics, engine status, GPU
// samples and per-segment summaries) and a File, the versioned JSON document
// written by the snapshot key and --snapshot-on-exit (with CSV of the time
// series and a Markdown summary beside it) and read back by `benchtop view`.
package snapshot
