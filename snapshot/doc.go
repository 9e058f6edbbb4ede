// Package snapshot is the snapshot file format: the versioned JSON document
// (schema benchtop.snapshot/v2) written by the dashboard's snapshot key and
// --snapshot-on-exit, with a CSV of the time series and a Markdown summary
// beside it, and read back by `benchtop view` (which still reads v1). The
// three are one set, written whole or not at all with the JSON last: it is
// the set's manifest (Files: the others' sizes and SHA-256; CheckSet). It
// owns the file's types; the session builds a File from its frame.
package snapshot
