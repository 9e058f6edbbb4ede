package metrics

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Every exported field of the published types has an explicit snake_case
// JSON name; durations are nanoseconds named *_ns.
func TestJSONTags(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || ty.PkgPath() != reflect.TypeFor[Snapshot]().PkgPath() || seen[ty] {
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "" || name == "-" || !snakeCase.MatchString(name):
				t.Errorf("%s.%s: JSON name %q", ty.Name(), f.Name, name)
			case f.Type == reflect.TypeFor[time.Duration]() && !strings.HasSuffix(name, "_ns"):
				t.Errorf("%s.%s: a duration named %q, not *_ns", ty.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	for _, v := range []any{Snapshot{}, Summary{}, Segment{}, RequestRecord{}} {
		walk(reflect.TypeOf(v))
	}
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen))
	}
}

// Published documents have no nulls: empty lists are [], missing
// distributions have count 0.
func TestJSONShape(t *testing.T) {
	c, clk := newFake(t, WithSLO(SLO{TTFT: time.Second}))
	check := func(what string, v any) {
		t.Helper()
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		noNulls(t, what, doc)
	}
	check("fresh snapshot", c.Latest())
	check("fresh summary", c.SummarySince(time.Time{}, 0, SLO{}))
	check("fresh segments", c.Segments())
	check("fresh records", c.Records())
	check("fresh decode steps", c.DecodeStepsSince(time.Time{}))

	lifecycle(c.Source(1), "a", 0, 1, 10, 5, 4)
	c.Mark(at(100), "max_num_seqs=5")
	step(c, 150, time.Millisecond, 3, 3, 0, 10)
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvArrived, ID: "b", Time: at(160)})
	c.OnRequest(&engine.RequestEvent{Kind: engine.EvFinished, ID: "b", Time: at(160), Finish: engine.FinishRejected, Err: "too long"})
	s := syncAt(t, c, clk, 1000)
	check("snapshot", s)
	check("summary", c.SummarySince(time.Time{}, time.Second, SLO{}))
	check("segments", c.Segments())
	check("records", c.Records())
	raw, _ := json.Marshal(s)
	for _, want := range []string{`"sources":[{"source":0`, `"finishes":{"length":1,"rejected":1}`, `"window_ns":1000000000`,
		`"dropped_events":0`, `"tokens_per_chunk":{"count":4`, `"step_phases":{"schedule":{"count":1`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("snapshot JSON lacks %s:\n%s", want, raw)
		}
	}
}

func noNulls(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("%s is null", path)
	case map[string]any:
		for k, x := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("%s: key %q", path, k)
			}
			noNulls(t, path+"."+k, x)
		}
	case []any:
		for i, x := range v {
			noNulls(t, path+"["+string(rune('0'+i%10))+"]", x)
		}
	}
}
