package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"benchtop/report"
	"benchtop/session"
	"benchtop/snapshot"
	"benchtop/tui"
)

// DashCmd is the live dashboard over a workload kept running.
type DashCmd struct {
	EngineFlags    `embed:""`
	WorkloadFlags  `embed:""`
	SnapshotDir    string        `default:"." placeholder:"DIR" help:"folder snapshots are written to"`
	SnapshotOnExit bool          `help:"write a snapshot when quitting (q, --duration, SIGINT, SIGTERM or SIGHUP)"`
	Duration       time.Duration `help:"quit after this long and print the output tokens/s of the run (0: run until q or a signal)"`
	Headless       bool          `help:"run the same workload loop without drawing, until --duration or a signal (the baseline for the dashboard's cost)"`
}

func (c *DashCmd) Run(e *env) error {
	if err := c.refuseIgnored("dash",
		ignored{"json", "its snapshot is its record: s, or --snapshot-on-exit; benchtop run --json for a report"},
		ignored{"requests", "it keeps the workload running; --duration stops it"}); err != nil {
		return err
	}
	if err := c.EngineFlags.check(); err != nil {
		return err
	}
	if err := c.WorkloadFlags.check(); err != nil {
		return err
	}
	if c.Duration < 0 {
		return fmt.Errorf("--duration %s: must not be negative", c.Duration)
	}
	if st, err := os.Stat(c.SnapshotDir); err != nil || !st.IsDir() {
		return fmt.Errorf("--snapshot-dir %s is not a folder", c.SnapshotDir)
	}
	if err := report.CheckWritableDir(c.SnapshotDir); err != nil {
		return fmt.Errorf("--snapshot-dir: %w", err)
	}
	if !c.Headless {
		if err := needTerminal(); err != nil {
			return err
		}
	}
	ctx, stop := e.context() // before the model loads: a signal then still stops cleanly
	defer stop()
	opts := c.options(e)
	opts.Progress = false // the dashboard is the progress
	opts.Ceilings = true
	opts.SLO = c.objectives
	s, err := session.Open(opts)
	if err != nil {
		return e.interrupted(err)
	}
	w, err := c.build(s.Vocab(), e.stderr)
	if err == nil {
		err = s.Start(w)
	}
	if err != nil {
		s.Close()
		return err
	}
	start := time.Now()
	var runErr error
	if c.Headless {
		var timeout <-chan time.Time
		if c.Duration > 0 {
			timeout = time.After(c.Duration)
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		}
	} else {
		m := tui.New(s)
		m.SnapshotDir = c.SnapshotDir
		// The one shutdown path handles signals (shutdown.go), not Bubble Tea.
		p := tea.NewProgram(m, tea.WithInput(os.Stdin), tea.WithOutput(e.tty()), tea.WithoutSignalHandler())
		go func() {
			var timeout <-chan time.Time
			if c.Duration > 0 {
				timeout = time.After(c.Duration)
			}
			select {
			case <-ctx.Done(): // a signal: leave the same way as q
			case <-timeout:
			}
			p.Quit()
		}()
		_, runErr = p.Run()
	}
	if c.Duration > 0 {
		if f := s.Frame(); f.Metrics != nil {
			elapsed := time.Since(start)
			failures := ""
			if failed, truncated, _ := f.Outcomes(); failed+truncated > 0 {
				failures = fmt.Sprintf(" (%d requests failed, %d cut at max_model_len)", failed, truncated)
			}
			how := "on the dashboard"
			if c.Headless {
				how = "headless"
			}
			fmt.Fprintf(e.stderr, "benchtop: %s for %s, %s: %d output tokens, %.1f output tok/s%s\n",
				w.Name, elapsed.Round(time.Millisecond), how, f.Metrics.OutputTokens, float64(f.Metrics.OutputTokens)/elapsed.Seconds(), failures)
		}
	}
	files, snapErr, closeErr := leave(e, s, c.SnapshotDir, c.SnapshotOnExit)
	for _, f := range files {
		fmt.Fprintf(e.stderr, "benchtop: wrote %s\n", f)
	}
	switch {
	case runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled):
		return fmt.Errorf("dashboard: %w", runErr)
	case snapErr != nil:
		return snapErr
	}
	return e.interrupted(closeErr)
}

// leave writes the exit snapshot (from the published frame and the
// collector: it waits for no step) and closes the session, which waits for
// the step in flight. The screen has already been given back: when that
// takes more than a moment it says so, and a second SIGINT or SIGTERM
// kills the process at once (exit 130 or 143).
func leave(e *env, s *session.Session, dir string, snap bool) (files []string, snapErr, closeErr error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if snap {
			files, snapErr = s.Snapshot(dir)
		}
		closeErr = s.Close()
	}()
	slow := time.NewTimer(FinishingNote)
	defer slow.Stop()
	for {
		select {
		case <-done:
			return files, snapErr, closeErr
		case <-slow.C:
			fmt.Fprintln(e.stderr, "benchtop: finishing the current step… (Ctrl-C kills it)")
		case sig := <-sigs:
			code := 130
			if sig == syscall.SIGTERM {
				code = 143
			}
			fmt.Fprintf(e.stderr, "benchtop: %v: killed without finishing the step\n", sig)
			killProcess(code)
		}
	}
}

// FinishingNote is how long closing may take before benchtop says it is
// finishing the step in flight.
const FinishingNote = 300 * time.Millisecond

// killProcess ends the process with a code (a test replaces it).
var killProcess = defaultKill

func defaultKill(code int) { os.Exit(code) }

// ViewCmd reopens a snapshot in the dashboard, read-only.
type ViewCmd struct {
	Path string `arg:"" placeholder:"SNAPSHOT.json" help:"a snapshot written by the dashboard (schema v2 or v1)"`
}

func (c *ViewCmd) Run(e *env) error {
	f, err := snapshot.Read(c.Path)
	if err != nil {
		if exp, ok := reportOf(c.Path); ok {
			return fmt.Errorf("%s is the --json report of benchtop %s, not a snapshot: view opens the dashboard's snapshots "+
				"(benchtop-snapshot-*.json, written by s or --snapshot-on-exit); benchtop diff compares reports", c.Path, exp)
		}
		if raw, rerr := os.ReadFile(c.Path); rerr == nil {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				if _, obj := v.(map[string]any); !obj { // the reader's own words name a Go type
					return fmt.Errorf("%s: not a benchtop snapshot: a snapshot is a JSON object {…}; this is %s", c.Path, kindOf(v))
				}
			}
		}
		return err
	}
	if err := needTerminal(); err != nil {
		return err
	}
	ctx, stop := e.context()
	defer stop()
	p := tea.NewProgram(tui.NewViewer(session.FrameOf(f, c.Path)), tea.WithInput(os.Stdin), tea.WithOutput(e.tty()), tea.WithoutSignalHandler())
	go func() { <-ctx.Done(); p.Quit() }() // a signal, or the end of Run
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) {
		return e.interrupted(nil)
	}
	return e.interrupted(err)
}

// reportOf says whether path is a --json report (package report's
// documents carry schema_version and experiment) and of which experiment.
func reportOf(path string) (experiment string, ok bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Experiment    string `json:"experiment"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.SchemaVersion == 0 || doc.Experiment == "" {
		return "", false
	}
	return doc.Experiment, true
}

// needTerminal fails clearly where the dashboard cannot draw: standard input
// and output must be a terminal.
func needTerminal() error {
	if term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd()) {
		return nil
	}
	return errors.New("the dashboard needs a terminal (standard input and output are not one); " +
		"headless: benchtop bench, run or sweep, or benchtop dash --headless --duration 30s")
}
