package servermetrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrTooLarge is returned when an exposition is over its size limit.
var ErrTooLarge = errors.New("metrics body over its size limit")

// Families are parsed metric families by name.
type Families map[string]*dto.MetricFamily

// Parse reads a Prometheus text exposition (format 0.0.4) of at most
// maxBytes (≤ 0: 16 MiB) with expfmt. A body whose last line has no final
// newline parses too: expfmt's parser reports "unexpected end of input
// stream" there (checked against v0.73.1 in the tests), so one is added.
// Metric names are validated as UTF-8 (vLLM's and SGLang's colons pass
// either way).
func Parse(r io.Reader, maxBytes int64) (Families, error) {
	if maxBytes <= 0 {
		maxBytes = 16 << 20
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxBytes)
	}
	return parseBytes(b)
}

func parseBytes(b []byte) (Families, error) {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return Families(fams), nil
}
