package workloads

import (
	"errors"
	"strings"
	"testing"
)

// Files with nothing to run get errors that say so (ErrEmpty,
// ErrNoConversations), not a parser's "EOF" or a count of zero; a JSON
// value of the wrong kind is named.
func TestEmptyDatasets(t *testing.T) {
	for _, c := range []struct {
		in   string
		is   error
		want string
	}{
		{"", ErrEmpty, "is empty (0 bytes)"},
		{" \n\t\r\n", ErrEmpty, "is empty (only white space)"},
		{"\xef\xbb\xbf\n", ErrEmpty, "is empty (only white space)"},
		{"[]", ErrNoConversations, "holds no conversations (an empty JSON array)"},
		{"\n[\n  \n]\n", ErrNoConversations, "holds no conversations"},
		{"{}", nil, "line 1: a ShareGPT file is a JSON array of conversations, not an object"},
		{"\n\n\"x\"", nil, "line 3: a ShareGPT file is a JSON array of conversations, not a string"},
		{"null", nil, "not null"},
		{"[] []", nil, "line 1: more after the array of conversations ends"},
		{"[\n{}\n]", nil, "(1 conversation, at line 2)"},
		{"[\n{},\n{}]", nil, "(2 conversations, the first at line 2)"},
		{"[", nil, "line 1: the file ends inside its JSON (unexpected EOF)"},
		{"[\n{\"id\": 1", nil, "line 2: the file ends inside its JSON"},
	} {
		specs, _, err := ReadShareGPT(strings.NewReader(c.in), words)
		if err == nil || specs != nil || c.is != nil && !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadShareGPT(%q): %d specs, error %v; want %q", c.in, len(specs), err, c.want)
		}
	}
	// A BOM before the array is no syntax error.
	if specs, _, err := ReadShareGPT(strings.NewReader("\xef\xbb\xbf"+`[{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]`), words); err != nil || len(specs) != 1 {
		t.Errorf("with a BOM: %v", err)
	}
	for _, c := range []struct {
		in   string
		is   error
		want string
	}{
		{"", ErrEmpty, "is empty (no requests)"},
		{"\n  \n\t\n", ErrEmpty, "is empty (no requests, only blank lines)"},
		{"\xef\xbb\xbf", ErrEmpty, "is empty"},
		{"[]", nil, `line 1: a request is a JSON object {"prompt", "output_len", "arrival_time"}, not an array`},
		{"\n\"hi\"", nil, "line 2: a request is a JSON object"},
		{"null", nil, "line 1: a request is a JSON object {\"prompt\", \"output_len\", \"arrival_time\"}, not null"},
		{"7", nil, "not a number"},
		{"{}", nil, "line 1: no prompt"},
		{"[1", nil, "line 1: "},
	} {
		specs, err := ReadJSONL(strings.NewReader(c.in))
		if err == nil || specs != nil || c.is != nil && !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadJSONL(%q): %d specs, error %v; want %q", c.in, len(specs), err, c.want)
		}
	}
	if specs, err := ReadJSONL(strings.NewReader("\xef\xbb\xbf{\"prompt\": \"a\", \"output_len\": 2}\n")); err != nil || len(specs) != 1 {
		t.Errorf("JSONL with a BOM: %v", err)
	}
}
