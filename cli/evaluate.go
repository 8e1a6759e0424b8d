package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/evaluate"
	"github.com/perch-dev/perch/sim"
)

func newEvaluateCmd(g *globalFlags) *cobra.Command {
	var (
		scenario       string
		runs           int
		seed           int64
		duration       time.Duration
		asJSON, perRun bool
	)
	cmd := &cobra.Command{
		Use:   "evaluate --scenario NAME|FILE [--runs N] [--seed S] [--json]",
		Short: "Measure the judge against fixed-threshold alarms on simulated traffic",
		Long: `Play a scenario many times on the simulator with a virtual clock, one seed per
run, and apply to the same data perch's judge (its verdict read at every poll of
perch's engine, through the same AWS adapters), the seed's fixed-threshold
alarms on the canary's 5xx (>= 5 in one 60 s period; >= 10 over two periods),
and the oracle: a CUSUM that knows the canary's true rates before and after the
regression, at a 1% chance of a false alarm in 24 hours, the physical limit.

Per run: the time from the regression's start to detection, whether a
detection was a false rollback (on a healthy canary, or before the regression
started), whether the judge said PASS after the regression began, and the
requests seen. --json prints the summary:
{"runs", "judge": {"false_rollback_rate", "median_detection_seconds",
"insufficient_runs", "pass_after_onset_runs",
"median_detection_seconds_by_signal"}, "alarm_baseline": {...},
"oracle": {...}, "detection_ratio", "oracle_ratio"} (simulated seconds; null
where there is no median; the oracle only with a regression).

Built-in evaluation scenarios: eval-healthy, eval-2x, eval-10x, eval-2x-late,
eval-low-traffic, eval-error-spike, eval-late-p99, eval-late-5x, eval-p99-40,
eval-p99-40-even, eval-p99-20, eval-p99-2x-low, eval-common-mode, eval-better.
Runs last --duration (default 60m; 12h with a regression, each run ending once
every detector has fired); --duration 24h on eval-healthy checks the judge's
24-hour false-alarm bound. See docs/evaluate.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case runs < 1 || runs > 100000:
				return usageErr("--runs %d: want 1 to 100000", runs)
			case seed < 1:
				return usageErr("--seed %d: want 1 or more (run i uses seed S+i)", seed)
			case duration < 0 || duration > 7*24*time.Hour:
				return usageErr("--duration %s: want up to 168h (0: the default)", duration)
			case g.poll < time.Second || g.poll > 10*time.Minute:
				return usageErr("--poll %s: want 1s to 10m", g.poll)
			case duration != 0 && duration < g.poll:
				return usageErr("--duration %s is shorter than --poll %s", duration, g.poll)
			}
			sc, err := sim.LoadScenario(scenario)
			if err != nil {
				return usageErr("%v", err)
			}
			if _, err := evaluate.TimelineOf(sc); err != nil {
				return usageErr("%v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := evaluate.Evaluate(ctx, evaluate.Options{
				Scenario: sc, Runs: runs, Seed: seed, Poll: g.poll, Duration: duration,
			})
			if err != nil {
				return withCode(ExitFailure, err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep.Summary); err != nil {
					return withCode(ExitFailure, fmt.Errorf("write summary: %w", err))
				}
				return nil
			}
			if err := rep.WriteText(out, perRun); err != nil {
				return withCode(ExitFailure, fmt.Errorf("write report: %w", err))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenario, "scenario", "", "built-in scenario name or a scenario YAML file")
	f.IntVar(&runs, "runs", evaluate.DefaultRuns, "how many seeded runs")
	f.Int64Var(&seed, "seed", 1, "first seed: run i uses seed S+i")
	f.DurationVar(&duration, "duration", 0, "how long each run watches (0: 60m, or 12h when the scenario has a regression; 24h for the false-alarm bound)")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	f.BoolVar(&perRun, "per-run", false, "also print one row per run")
	cmd.MarkFlagRequired("scenario")
	return cmd
}
