package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"benchtop/engine"
	"benchtop/experiments"
	"benchtop/session"
	"benchtop/workloads"
)

// parseVariant reads NAME:flag=value,flag=value on top of base.
func parseVariant(spec string, base engine.Config) (experiments.Variant, error) {
	name, rest, _ := strings.Cut(spec, ":")
	if name == "" {
		return experiments.Variant{}, fmt.Errorf("no name (want NAME:flag=value,...)")
	}
	c := base
	for _, kv := range splitComma(rest) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return experiments.Variant{}, fmt.Errorf("%q is not flag=value", kv)
		}
		var err error
		switch strings.TrimPrefix(k, "--") {
		case "max-num-seqs":
			c.MaxNumSeqs, err = strconv.Atoi(v)
		case "max-num-batched-tokens":
			c.MaxNumBatchedTokens, err = strconv.Atoi(v)
		case "gpu-memory-utilization":
			c.GPUMemoryUtilization, err = strconv.ParseFloat(v, 64)
		case "block-size":
			c.BlockSize, err = strconv.Atoi(v)
		case "max-model-len":
			c.MaxModelLen, err = strconv.Atoi(v)
		case "enforce-eager":
			c.EnforceEager, err = strconv.ParseBool(v)
		case "chunked-prefill":
			c.EnableChunkedPrefill, err = strconv.ParseBool(v)
		default:
			return experiments.Variant{}, fmt.Errorf("unknown engine flag %q", k)
		}
		if err != nil {
			return experiments.Variant{}, fmt.Errorf("%s: %q is not a valid value", k, v)
		}
		// As on the command line: the engine reads 0 as auto, so a 0 given
		// here would silently run the default.
		if f, _ := strconv.ParseFloat(v, 64); f == 0 && autoZero[strings.TrimPrefix(k, "--")] {
			return experiments.Variant{}, fmt.Errorf("%s=%s: must be above 0 (leave it out for auto)", k, v)
		}
	}
	if err := c.Validate(); err != nil {
		return experiments.Variant{}, err
	}
	return experiments.Variant{Name: name, Config: c}, nil
}

// autoZero are the engine flags whose 0 means auto.
var autoZero = map[string]bool{"max-num-seqs": true, "max-num-batched-tokens": true, "gpu-memory-utilization": true}

// parseSweepValues reads --values for a sweep over over: whole numbers of
// requests (batch, at most session.MaxRequests) or clients (concurrency,
// at most session.MaxClients), or rates in requests/s (at most
// workloads.MaxRate).
func parseSweepValues(over, s string) ([]float64, error) {
	vals, err := parseFloats(s)
	if err != nil {
		return nil, err
	}
	limit := map[string]float64{"batch": session.MaxRequests, "concurrency": session.MaxClients, "rate": workloads.MaxRate}[over]
	for _, v := range vals {
		switch {
		case v > limit:
			return nil, fmt.Errorf("%g: at most %s for --over %s", v, strconv.FormatFloat(limit, 'f', -1, 64), over)
		case over != "rate" && v != math.Trunc(v):
			return nil, fmt.Errorf("%g: --over %s takes whole numbers", v, over)
		}
	}
	return vals, nil
}

// parseFloats reads "1,2.5,10": positive, finite numbers.
func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitComma(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}
