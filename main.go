// Command benchtop watches LLM inference performance on its own engine.
// See README.md; the command line lives in package cli.
package main

import (
	"os"

	"benchtop/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
