package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/model"
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	t := &targetFlags{}
	var asJSON bool
	var window time.Duration
	cmd := &cobra.Command{
		Use:   "status " + targetUsage + " [--json]",
		Short: "Print the split, each side's signals and the alarms once, for scripts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if window <= 0 {
				return usageErr("--window must be positive, got %v", window)
			}
			ctx := cmd.Context()
			s, err := openSession(ctx, g, t, sessionOptions{via: "headless"})
			if err != nil {
				return err
			}
			defer s.close()
			snap := s.engine.PollOnce(ctx)
			st := newStatus(snap, window)
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), st); err != nil {
					return withCode(ExitFailure, err)
				}
			} else {
				printStatus(cmd.OutOrStdout(), st)
			}
			if !snap.SplitKnown {
				return withCode(ExitFailure, fmt.Errorf("traffic state unknown: %s", snap.SplitErr))
			}
			return nil
		},
	}
	addTargetFlags(cmd, t)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().DurationVar(&window, "window", 5*time.Minute, "how far back the per-side totals reach")
	return cmd
}

// status is the JSON contract of `perch status --json`.
type status struct {
	Target    model.Target            `json:"target"`
	Identity  model.Identity          `json:"identity"`
	Split     splitStatus             `json:"split"`
	Health    map[string]model.Health `json:"health"`
	Metrics   map[string]sideMetrics  `json:"metrics"`
	Alarms    []model.Alarm           `json:"alarms"`
	Errors    []string                `json:"errors,omitempty"`
	FetchedAt time.Time               `json:"fetched_at"`
	// Deployment is CodeDeploy's view, for a CodeDeploy target.
	Deployment *model.DeploymentStatus `json:"deployment,omitempty"`
}

type splitStatus struct {
	Known         bool     `json:"known"`
	StablePercent float64  `json:"stable_percent"`
	CanaryPercent float64  `json:"canary_percent"`
	StableWeight  int      `json:"stable_weight"`
	CanaryWeight  int      `json:"canary_weight"`
	ObservedShare *float64 `json:"observed_canary_share_percent"`
}

// sideMetrics sums each side's signals over the window; latencies are the
// newest period's value. Nil means no data.
type sideMetrics struct {
	WindowSeconds    int      `json:"window_seconds"`
	Requests         float64  `json:"requests"`
	Errors5xx        float64  `json:"errors_5xx"`
	Errors4xx        float64  `json:"errors_4xx"`
	ErrorRatePercent *float64 `json:"error_rate_percent"`
	LatencyP50Ms     *float64 `json:"latency_p50_ms"`
	LatencyP99Ms     *float64 `json:"latency_p99_ms"`
	// Throttles is for Lambda targets only.
	Throttles *float64 `json:"throttles,omitempty"`
}

func newStatus(snap model.Snapshot, window time.Duration) status {
	since := snap.Now.Add(-window)
	st := status{
		Target:     snap.Target,
		Identity:   snap.Identity,
		Health:     map[string]model.Health{"stable": snap.Health[model.Stable], "canary": snap.Health[model.Canary]},
		Metrics:    map[string]sideMetrics{},
		Alarms:     snap.Alarms,
		FetchedAt:  snap.Now.UTC(),
		Deployment: snap.Deployment,
	}
	if st.Alarms == nil {
		st.Alarms = []model.Alarm{}
	}
	if snap.SplitKnown {
		st.Split = splitStatus{
			Known:         true,
			StablePercent: snap.Split.StablePercent(),
			CanaryPercent: snap.Split.CanaryPercent(),
			StableWeight:  snap.Split.StableWeight,
			CanaryWeight:  snap.Split.CanaryWeight,
		}
	}
	if share, ok := snap.ObservedCanaryShare(since); ok {
		st.Split.ObservedShare = &share
	}
	for _, side := range model.Sides {
		sig := snap.Signals[side]
		m := sideMetrics{WindowSeconds: int(window.Seconds())}
		m.Requests = model.Sum(sig[model.Requests], since)
		m.Errors5xx = model.Sum(sig[model.Errors5xx], since)
		m.Errors4xx = model.Sum(sig[model.Errors4xx], since)
		if m.Requests > 0 {
			r := 100 * m.Errors5xx / m.Requests
			m.ErrorRatePercent = &r
		}
		m.LatencyP50Ms = lastValue(sig[model.LatencyP50], since)
		m.LatencyP99Ms = lastValue(sig[model.LatencyP99], since)
		if isLambdaTarget(snap.Target) {
			th := model.Sum(sig[model.Throttles], since)
			m.Throttles = &th
		}
		st.Metrics[side.String()] = m
	}
	for _, e := range []string{snap.SplitErr, snap.MetricsErr, snap.AlarmsErr} {
		if e != "" {
			st.Errors = append(st.Errors, e)
		}
	}
	return st
}

func lastValue(pts []model.Point, since time.Time) *float64 {
	if len(pts) == 0 || pts[len(pts)-1].T.Before(since) {
		return nil
	}
	v := pts[len(pts)-1].V
	return &v
}

func printStatus(w io.Writer, st status) {
	fmt.Fprintf(w, "target   %s (%s) %s\n", text(st.Target.Name), text(string(st.Target.Kind)), text(st.Target.ID()))
	if st.Split.Known {
		fmt.Fprintf(w, "split    stable %s (%s) / canary %s (%s)\n",
			model.FormatPercent(st.Split.StablePercent), text(st.Target.StableName),
			model.FormatPercent(st.Split.CanaryPercent), text(st.Target.CanaryName))
	} else {
		fmt.Fprintf(w, "split    UNKNOWN\n")
	}
	if src := st.Target.CanarySource; src != "" {
		fmt.Fprintf(w, "canary   %s: %s\n", st.Target.CanaryName, src.Describe())
	}
	if why := st.Target.CanaryUnconfirmed; why != "" {
		fmt.Fprintf(w, "WARNING  %s; perch writes nothing until the canary is confirmed (--canary-target-group)\n", why)
	}
	for _, side := range []string{"stable", "canary"} {
		m := st.Metrics[side]
		if isLambdaTarget(st.Target) {
			fmt.Fprintf(w, "%-8s %.0f invocations, %.0f errors (%s), %s throttles, p99 duration %s over %ds\n", side, m.Requests, m.Errors5xx,
				optional(m.ErrorRatePercent, "%.2f%%"), optional(m.Throttles, "%.0f"), optional(m.LatencyP99Ms, "%.0f ms"), m.WindowSeconds)
			continue
		}
		fmt.Fprintf(w, "%-8s %.0f requests, %.0f 5xx (%s), p99 %s over %ds\n", side, m.Requests, m.Errors5xx,
			optional(m.ErrorRatePercent, "%.2f%%"), optional(m.LatencyP99Ms, "%.0f ms"), m.WindowSeconds)
	}
	printDeployment(w, st.Deployment, st.FetchedAt)
	for _, a := range st.Alarms {
		fmt.Fprintf(w, "alarm    %s %s\n", text(string(a.State)), text(a.Name))
	}
	for _, e := range st.Errors {
		fmt.Fprintf(w, "error    %s\n", text(e))
	}
}

func optional(v *float64, format string) string {
	if v == nil {
		return "no data"
	}
	return fmt.Sprintf(format, *v)
}

func newShiftCmd(g *globalFlags) *cobra.Command {
	t := &targetFlags{}
	var to, expect, reason string
	cmd := &cobra.Command{
		Use:   "shift --to PCT " + targetUsage,
		Short: "Set the canary's share of traffic, with the cockpit's safety checks",
		Long: `Set the canary's share of traffic. perch re-reads the split, refuses if it is not
what --expect says (when given), writes, reads back and records intent and outcome
in the audit log.` + writeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pct, err := parsePercent("--to", to)
			if err != nil {
				return err
			}
			return runIntent(cmd, g, t, model.Intent{Kind: model.SetPercent, Percent: pct, Reason: reason}, expect)
		},
	}
	addTargetFlags(cmd, t)
	cmd.Flags().StringVar(&to, "to", "", "canary percentage to set, 0-100")
	cmd.Flags().StringVar(&expect, "expect", "", "refuse unless the canary is at this percentage now")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	cmd.MarkFlagRequired("to")
	return cmd
}

// writeHelp ends the help of every command that moves traffic: what the
// canary rests on, and what the exit codes mean.
const writeHelp = `

Which side is the canary comes from --canary-target-group, the rollout marker perch
keeps on the rule, this machine's audit log, or (at 100/0) the side at 0%; never
from which weight is lower. Without one of those perch refuses to write.

Exit codes: 0 done and verified, 2 bad input, 3 refused (split changed, read-only,
canary not confirmed), 4 the write failed, could not be verified, or its outcome
could not be written to the audit log, 1 other errors.`

func newPromoteCmd(g *globalFlags) *cobra.Command {
	return newOneShotCmd(g, model.Promote, "promote", "Send all traffic to the canary (100%)")
}

func newRollbackCmd(g *globalFlags) *cobra.Command {
	return newOneShotCmd(g, model.Rollback, "rollback", "Send all traffic to the side that was stable when the rollout began (canary 0%)")
}

func newOneShotCmd(g *globalFlags, kind model.IntentKind, name, short string) *cobra.Command {
	t := &targetFlags{}
	var expect, reason string
	cmd := &cobra.Command{
		Use:   name + " " + targetUsage,
		Short: short,
		Long:  short + ", with the cockpit's safety checks and audit." + writeHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIntent(cmd, g, t, model.Intent{Kind: kind, Reason: reason}, expect)
		},
	}
	addTargetFlags(cmd, t)
	cmd.Flags().StringVar(&expect, "expect", "", "refuse unless the canary is at this percentage now")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}

func runIntent(cmd *cobra.Command, g *globalFlags, t *targetFlags, in model.Intent, expect string) error {
	if err := refuseOnCodeDeploy(t, in.Kind); err != nil {
		return err
	}
	if t.isECS() && expect != "" {
		return usageErr("--expect guards a weight perch writes; ECS moves this deployment's traffic, and a rollback stops it wherever it is")
	}
	if t.isCodeDeploy() && expect != "" {
		return usageErr("--expect guards a weight perch writes; CodeDeploy moves this deployment's traffic, and a rollback stops it wherever it is")
	}
	var expectPct *float64
	if expect != "" {
		p, err := parsePercent("--expect", expect)
		if err != nil {
			return err
		}
		expectPct = &p
	}
	ctx := cmd.Context()
	s, err := openSession(ctx, g, t, sessionOptions{via: "headless"})
	if err != nil {
		return err
	}
	defer s.close()
	return execIntent(ctx, cmd.OutOrStdout(), s, in, expectPct)
}

func execIntent(ctx context.Context, w io.Writer, s *session, in model.Intent, expectPct *float64) error {
	snap := s.engine.PollOnce(ctx)
	if !snap.SplitKnown {
		return withCode(ExitRefused, fmt.Errorf("traffic state unknown, nothing written: %s", snap.SplitErr))
	}
	if expectPct != nil {
		want := snap.Split.WithCanaryPercent(*expectPct)
		in.Expected = &want
	}
	in.Actor = s.actor
	res := s.engine.Execute(ctx, in)
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	switch res.Outcome {
	case model.OutcomeOK:
		fmt.Fprintf(w, "%s: %s (verified)\n", in.Kind.Action(), res.To)
		if d := s.engine.Snapshot().Deployment; d != nil {
			fmt.Fprintf(w, "deployment %s %s: %s\n", d.ID, d.Status, d.Step)
		}
		return nil
	default:
		return withCode(exitCodeOf(res), fmt.Errorf("%s: %s", res.Outcome, res.Err))
	}
}

// exitCodeOf maps a result that did not end as asked to the exit code its
// reason means: bad input is the caller's to fix, a refusal touched
// nothing, a failure may have.
func exitCodeOf(res model.Result) int {
	switch {
	case res.Outcome == model.OutcomeRefused && (res.Reason == model.ReasonLadder || res.Reason == model.ReasonBadRequest || res.Reason == model.ReasonUnsupported):
		return ExitUsage
	case res.Outcome == model.OutcomeRefused:
		return ExitRefused
	}
	return ExitFailed
}

// parsePercent reads a whole percentage, 0 to 100, as it is written on a
// ladder: "25" or "25%". Fractions, exponents and leading zeros are
// refused rather than rounded into a weight nobody typed.
func parsePercent(flag, s string) (float64, error) {
	digits := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.Atoi(digits)
	if err != nil || v < 0 || v > 100 || strconv.Itoa(v) != digits {
		return 0, usageErr("%s %q: want a whole percentage 0-100, such as 25", flag, s)
	}
	return float64(v), nil
}
