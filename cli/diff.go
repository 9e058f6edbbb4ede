package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// DiffCmd compares two JSON documents — snapshots or --json reports —
// field by field: every field that differs, including one that is null or
// missing on one side, with the change and its ratio for numbers.
type DiffCmd struct {
	All bool   `help:"also list fields that did not change"`
	A   string `arg:"" placeholder:"A.json" help:"the first file: a snapshot (benchtop-snapshot-*.json) or a --json report"`
	B   string `arg:"" placeholder:"B.json" help:"the second, of the same kind; B − A and B / A are its change"`
}

// maxDiffList is the longest list compared element by element (a sweep's
// points, a comparison's configurations, segments); a longer one (time
// series, request lists) is compared by its length.
const maxDiffList = 16

func (c *DiffCmd) Run(e *env) error {
	var docs [2]map[string]any
	for i, path := range []string{c.A, c.B} {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if docs[i], err = flattenJSON(raw); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	writeDiff(e.stdout, docs[0], docs[1], c.All)
	return nil
}

// missing is a field one side lacks (not null: absent); emptyList and
// emptyObject are [] and {}.
type (
	missing     struct{}
	emptyList   struct{}
	emptyObject struct{}
)

// flattenJSON reads a JSON document into its leaves by dotted path
// (objects by key, short lists by index; a long list is its length, at
// PATH.length). Leaves are float64, bool, string, nil (null), emptyList or
// emptyObject.
func flattenJSON(raw []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("%w (a snapshot or a --json report is an object {…}; this is %s)", errNotObject, kindOf(v))
	}
	out := map[string]any{}
	flatten("", v, out)
	return out, nil
}

// errNotObject: a JSON document that is not an object cannot be a
// snapshot or a report.
var errNotObject = errors.New("not a benchtop snapshot or report")

// kindOf names a JSON value's kind.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}

func flatten(prefix string, v any, out map[string]any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 && prefix != "" {
			out[prefix] = emptyObject{}
		}
		for k, c := range x {
			flatten(join(k), c, out)
		}
	case []any:
		if len(x) > maxDiffList {
			out[join("length")] = float64(len(x))
			return
		}
		if len(x) == 0 {
			out[prefix] = emptyList{}
		}
		for i, c := range x {
			flatten(join(strconv.Itoa(i)), c, out)
		}
	default:
		out[prefix] = x
	}
}

// writeDiff prints every field whose value differs between a and b (all of
// them with all), sorted by path.
func writeDiff(w io.Writer, a, b map[string]any, all bool) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	// Numbers align right; the field names, padded here, read from the
	// left.
	var rows [][5]string
	for _, k := range sorted {
		va, ok := a[k]
		if !ok {
			va = missing{}
		}
		vb, ok := b[k]
		if !ok {
			vb = missing{}
		}
		if same(va, vb) && !all {
			continue
		}
		delta, ratio := "", ""
		if x, ok := va.(float64); ok {
			if y, ok := vb.(float64); ok {
				delta, ratio = num(y-x), "—"
				if x != 0 {
					ratio = fmt.Sprintf("%.3f×", y/x)
				}
			}
		}
		rows = append(rows, [5]string{k, show(va), show(vb), delta, ratio})
	}
	if len(rows) == 0 {
		fmt.Fprintf(w, "no differences among %d fields\n", len(sorted))
		return
	}
	width := len("field")
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r[0]))
	}
	name := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tA\tB\tB − A\tB / A\t\n", name("field"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name(r[0]), r[1], r[2], r[3], r[4])
	}
	tw.Flush()
}

func same(a, b any) bool {
	switch a.(type) {
	case missing:
		_, ok := b.(missing)
		return ok
	case nil:
		return b == nil
	}
	return a == b
}

func show(v any) string {
	switch x := v.(type) {
	case missing:
		return "(missing)"
	case nil:
		return "null"
	case float64:
		return num(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return strconv.Quote(x)
	case emptyList:
		return "[]"
	case emptyObject:
		return "{}"
	}
	return fmt.Sprint(v)
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}
