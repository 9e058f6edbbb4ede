// Package cli is benchtop's command line: subcommands, their flags, and the
// wiring from flags to the engine, the experiments and their output. main
// only calls Main.
package cli
