package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// runDiff compares two JSON documents — snapshots or --json reports —
// number by number: every numeric field both have (arrays such as time
// series and request lists left out), with the change and its ratio.
type DiffCmd struct {
	All bool   `help:"also list fields that did not change"`
	A   string `arg:"" placeholder:"A.json"`
	B   string `arg:"" placeholder:"B.json"`
}

func (c *DiffCmd) Run(e *env) error {
	stdout, all := e.stdout, &c.All
	var docs [2]map[string]float64
	var texts [2]map[string]string
	for i, path := range []string{c.A, c.B} {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: not JSON: %w", path, err)
		}
		docs[i], texts[i] = map[string]float64{}, map[string]string{}
		flatten("", v, docs[i], texts[i])
	}
	var keys []string
	for k := range docs[0] {
		if _, ok := docs[1][k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "metric\tA\tB\tB − A\tB / A\t\n")
	shown := 0
	for _, k := range keys {
		a, b := docs[0][k], docs[1][k]
		if a == b && !*all {
			continue
		}
		ratio := "—"
		if a != 0 {
			ratio = fmt.Sprintf("%.3f×", b/a)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", k, num(a), num(b), num(b-a), ratio)
		shown++
	}
	tw.Flush()
	for _, k := range []string{"model", "workload", "device", "status.model", "status.device.name", "status.Model", "status.Device.Name", "experiment"} {
		if texts[0][k] != texts[1][k] {
			fmt.Fprintf(stdout, "%s: %q → %q\n", k, texts[0][k], texts[1][k])
		}
	}
	if shown == 0 {
		fmt.Fprintf(stdout, "no numeric differences among %d shared fields\n", len(keys))
	}
	return nil
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func flatten(prefix string, v any, nums map[string]float64, texts map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, c, nums, texts)
		}
	case float64:
		nums[prefix] = x
	case bool:
		if x {
			nums[prefix] = 1
		} else {
			nums[prefix] = 0
		}
	case string:
		texts[strings.TrimPrefix(prefix, ".")] = x
	}
}
