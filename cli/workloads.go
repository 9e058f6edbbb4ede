package cli

import (
	"fmt"

	"benchtop/workloads"
)

// WorkloadsCmd lists the built-in workloads.
type WorkloadsCmd struct{}

func (c *WorkloadsCmd) Run(e *env) error {
	for i, w := range workloads.Builtin() {
		fmt.Fprintf(e.stdout, "%2d %-14s %s\n", i+1, w.Name, w.Description)
	}
	fmt.Fprintln(e.stdout, "\nShape any of them (run, sweep, compare, dash, tokenize): --arrival all | closed:N | constant:RATE | poisson:RATE |")
	fmt.Fprintln(e.stdout, "gamma:RATE:CV | ramp:FROM:TO:SECONDS | trace; --prompt-len / --output-len fixed:N | uniform:A:B |")
	fmt.Fprintln(e.stdout, "normal:MEAN:STD | lognormal:MEAN:SIGMA | sharegpt; --dataset FILE.json (ShareGPT) or FILE.jsonl.")
	return nil
}
