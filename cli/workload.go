package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"benchtop/metrics"
	"benchtop/session"
	"benchtop/workloads"
)

// WorkloadFlags choose and shape a workload: a built-in or a dataset file,
// then optional arrival process and length overrides, and SLOs.
type WorkloadFlags struct {
	Workload  string `placeholder:"NAME" default:"${workload_default}" help:"built-in workload (benchtop workloads lists them; default ${workload_default})"`
	Dataset   string `placeholder:"FILE" help:"requests from a file instead: ShareGPT JSON (.json) or JSONL of {prompt, output_len, arrival_time} (.jsonl)"`
	Arrival   string `placeholder:"PROCESS" help:"arrival process: all, closed:N, constant:RATE, poisson:RATE, gamma:RATE:CV, ramp:FROM:TO:SECONDS, trace"`
	PromptLen string `placeholder:"DIST" help:"synthetic prompt lengths: fixed:N, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA, sharegpt"`
	OutputLen string `placeholder:"DIST" help:"output lengths, as --prompt-len"`
	SLO       string `name:"slo" placeholder:"LIST" help:"service-level objectives, e.g. ttft=200ms,tpot=50ms,e2e=2s: goodput and attainment in every report"`

	arr        *workloads.Arrival
	prompt     *workloads.Length
	output     *workloads.Length
	objectives metrics.SLO
}

// check parses everything that needs no model, so bad flags fail at once.
func (wf *WorkloadFlags) check() error {
	if wf.Dataset == "" {
		if _, err := workloads.Lookup(wf.Workload); err != nil {
			return err
		}
	} else if st, err := os.Stat(wf.Dataset); err != nil || st.IsDir() {
		return fmt.Errorf("--dataset %s: not a readable file", wf.Dataset)
	}
	if wf.Arrival != "" {
		a, err := workloads.ParseArrival(wf.Arrival)
		if err != nil {
			return fmt.Errorf("--arrival: %w", err)
		}
		if a.Kind == "closed" && a.N > session.MaxClients {
			return fmt.Errorf("--arrival %s: at most %d clients", wf.Arrival, session.MaxClients)
		}
		if a.Kind == "trace" && wf.Dataset == "" { // a built-in has no times: it would all arrive at once
			return fmt.Errorf("--arrival trace replays a dataset's arrival_time: give --dataset FILE.jsonl")
		}
		wf.arr = &a
	}
	for _, x := range []struct {
		s      string
		dst    **workloads.Length
		output bool
		flag   string
	}{{wf.PromptLen, &wf.prompt, false, "--prompt-len"}, {wf.OutputLen, &wf.output, true, "--output-len"}} {
		if x.s == "" {
			continue
		}
		l, err := workloads.ParseLength(x.s, x.output)
		if err != nil {
			return fmt.Errorf("%s: %w", x.flag, err)
		}
		*x.dst = &l
	}
	slo, err := metrics.ParseSLO(wf.SLO)
	if err != nil {
		return fmt.Errorf("--slo: %w", err)
	}
	wf.objectives = slo
	return nil
}

// build makes the workload; a dataset is tokenized with the session's model.
func (wf *WorkloadFlags) build(v session.Vocab, stderr io.Writer) (workloads.Workload, error) {
	var w workloads.Workload
	if wf.Dataset != "" {
		f, err := os.Open(wf.Dataset)
		if err != nil {
			return w, err
		}
		defer f.Close()
		var specs []workloads.Spec
		name := strings.TrimSuffix(filepath.Base(wf.Dataset), filepath.Ext(wf.Dataset))
		if strings.HasSuffix(wf.Dataset, ".jsonl") {
			specs, err = workloads.ReadJSONL(f)
		} else {
			var skipped int
			enc := v.Encode
			specs, skipped, err = workloads.ReadShareGPT(f, func(text string) (int, error) {
				if enc == nil {
					return 0, fmt.Errorf("the model has no tokenizer")
				}
				ids, err := enc(text)
				return len(ids) - len(v.Prefix), err // less the BOS, where the model adds one
			})
			if skipped > 0 && err == nil { // with no request left, the error says it
				fmt.Fprintf(stderr, "benchtop: %s: %d of %d conversations skipped: no human turn answered by a reply\n", wf.Dataset, skipped, skipped+len(specs))
			}
		}
		if err == nil {
			err = v.CheckFit(specs)
		}
		if err != nil {
			return w, datasetError(wf.Dataset, err)
		}
		if wf.arr != nil && wf.arr.Kind == "trace" && !timed(specs) {
			return w, fmt.Errorf("--dataset %s: --arrival trace: no request has an arrival_time (every one would arrive at once)", wf.Dataset)
		}
		w = workloads.FromSpecs(name, wf.Dataset, specs)
	} else {
		var err error
		if w, err = workloads.Lookup(wf.Workload); err != nil {
			return w, err
		}
	}
	if wf.prompt != nil || wf.output != nil {
		w = w.WithLengths(wf.prompt, wf.output)
	}
	if wf.arr != nil {
		w = w.WithArrival(*wf.arr)
	}
	return w, nil
}

// datasetError names the --dataset file in a reader's error: "--dataset:
// x.json is empty", "--dataset x.json: line 3: ...".
func datasetError(path string, err error) error {
	if errors.Is(err, workloads.ErrEmpty) || errors.Is(err, workloads.ErrNoConversations) {
		return fmt.Errorf("--dataset: %s %w", path, err)
	}
	return fmt.Errorf("--dataset %s: %w", path, err)
}

// timed says whether any spec has an arrival offset (a trace).
func timed(specs []workloads.Spec) bool {
	for _, s := range specs {
		if s.Arrival > 0 {
			return true
		}
	}
	return false
}
