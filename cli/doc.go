// Package cli is benchtop's command line: subcommands, their flags, and the
// wiring from flags to the engine, the experiments and their output. main
// only calls Main.
//
// Every exit takes one shutdown path (shutdown.go): SIGINT, SIGTERM and
// SIGHUP cancel the context of a command that has work to finish, which
// then writes what finished (marked partial) and returns; Main maps the
// outcome to the exit code (0, 1, 2, or 128 + the signal's number). A
// command with nothing to write, or a second signal, ends at once.
//
// Standard output goes through one checked writer (output.go): when a write
// to it fails (a full disk, a reader gone), the command exits 1 with
// "writing to standard output: REASON", whatever printed it. The dashboard
// draws on the file Main was given, which Bubble Tea needs as such.
package cli
