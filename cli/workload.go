package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"benchtop/metrics"
	"benchtop/session"
	"benchtop/workloads"
)

// workloadFlags choose and shape a workload: a built-in or a dataset file,
// then optional arrival process and length overrides, and SLOs.
type workloadFlags struct {
	name, dataset, arrival, promptLen, outputLen, slo string
	arr                                               *workloads.Arrival
	prompt, output                                    *workloads.Length
	objectives                                        metrics.SLO
}

func (wf *workloadFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&wf.name, "workload", def, "built-in workload (benchtop workloads lists them)")
	fs.StringVar(&wf.dataset, "dataset", "", "requests from a file instead: ShareGPT `JSON` (.json) or JSONL of {prompt, output_len, arrival_time} (.jsonl)")
	fs.StringVar(&wf.arrival, "arrival", "", "arrival process: all, closed:N, constant:RATE, poisson:RATE, gamma:RATE:CV, ramp:FROM:TO:SECONDS, trace")
	fs.StringVar(&wf.promptLen, "prompt-len", "", "synthetic prompt lengths: fixed:N, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA, sharegpt")
	fs.StringVar(&wf.outputLen, "output-len", "", "output lengths, as --prompt-len")
	fs.StringVar(&wf.slo, "slo", "", "service-level objectives, e.g. ttft=200ms,tpot=50ms,e2e=2s: goodput and attainment in every report")
}

// check parses everything that needs no model, so bad flags fail at once.
func (wf *workloadFlags) check() error {
	if wf.dataset == "" {
		if _, err := workloads.Lookup(wf.name); err != nil {
			return err
		}
	} else if st, err := os.Stat(wf.dataset); err != nil || st.IsDir() {
		return fmt.Errorf("--dataset %s: not a readable file", wf.dataset)
	}
	if wf.arrival != "" {
		a, err := workloads.ParseArrival(wf.arrival)
		if err != nil {
			return fmt.Errorf("--arrival: %w", err)
		}
		wf.arr = &a
	}
	for _, x := range []struct {
		s      string
		dst    **workloads.Length
		output bool
		flag   string
	}{{wf.promptLen, &wf.prompt, false, "--prompt-len"}, {wf.outputLen, &wf.output, true, "--output-len"}} {
		if x.s == "" {
			continue
		}
		l, err := workloads.ParseLength(x.s, x.output)
		if err != nil {
			return fmt.Errorf("%s: %w", x.flag, err)
		}
		*x.dst = &l
	}
	slo, err := metrics.ParseSLO(wf.slo)
	if err != nil {
		return fmt.Errorf("--slo: %w", err)
	}
	wf.objectives = slo
	return nil
}

// build makes the workload; a dataset is tokenized with the session's model.
func (wf *workloadFlags) build(s *session.Session) (workloads.Workload, error) {
	var w workloads.Workload
	if wf.dataset != "" {
		f, err := os.Open(wf.dataset)
		if err != nil {
			return w, err
		}
		defer f.Close()
		var specs []workloads.Spec
		name := strings.TrimSuffix(filepath.Base(wf.dataset), filepath.Ext(wf.dataset))
		if strings.HasSuffix(wf.dataset, ".jsonl") {
			specs, err = workloads.ReadJSONL(f)
		} else {
			var skipped int
			specs, skipped, err = workloads.ReadShareGPT(f, func(text string) (int, error) {
				ids, err := s.Model().Encode(text)
				return len(ids) - 1, err // less the BOS
			})
			if skipped > 0 {
				fmt.Fprintf(os.Stderr, "benchtop: %s: %d conversations without a human turn and a reply skipped\n", wf.dataset, skipped)
			}
		}
		if err != nil {
			return w, fmt.Errorf("--dataset %s: %w", wf.dataset, err)
		}
		w = workloads.FromSpecs(name, fmt.Sprintf("%d requests from %s", len(specs), wf.dataset), specs)
	} else {
		var err error
		if w, err = workloads.Lookup(wf.name); err != nil {
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
