package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
)

func newDrillCmd(g *globalFlags) *cobra.Command {
	t := &targetFlags{}
	var timeout time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "drill --alarm NAME " + targetUsage + " [--plan PLAN] [--timeout 5m] [--json]",
		Short: "Rollback drill: set an alarm to ALARM and time perch's automatic rollback",
		Long: `The rollback drill. On a canary that is mid-rollout (neither 0% nor 100%), perch
sets the CloudWatch alarm --alarm NAME to ALARM (SetAlarmState, reason "perch
drill"), runs its autopilot with that alarm watched, and measures how long it
takes until traffic is back on stable. Then it sets the alarm back to OK:
always, also after a failure, a timeout or Ctrl-C.

The autopilot runs --plan cut at the step the canary is on, or by default a
one-step plan holding the current split: during a drill it can only roll back,
never advance. A metric alarm goes back to what its data says within about a
minute; the drill sets it to ALARM again while it waits.

On an ECS service deployment (--service or --deployment-arn) the alarm must be
one of the deployment's: ECS rolls back by itself, perch moves no traffic and
times ECS's rollback.

Every write (each SetAlarmState, the rollback) is in the audit log.

Exit codes: 0 rolled back, 2 bad input or a target not mid-canary (nothing
written), 3 refused (read-only, traffic state unknown), 4 no rollback within
--timeout or the alarm could not be set or restored, 1 other errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(t.alarms) != 1 || strings.TrimSpace(t.alarms[0]) == "" {
				return usageErr("drill needs exactly one --alarm NAME, got %d", len(t.alarms))
			}
			if timeout <= 0 {
				return usageErr("--timeout must be positive, got %v", timeout)
			}
			if g.readOnly {
				return withCode(ExitRefused, errors.New("read-only: a drill sets an alarm and lets the autopilot move traffic"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := runDrill(ctx, g, t, t.alarms[0], timeout)
			if rep != nil {
				if perr := printDrill(cmd.OutOrStdout(), rep, asJSON); perr != nil && err == nil {
					err = withCode(ExitFailure, perr)
				}
			}
			return err
		},
	}
	addTargetFlags(cmd, t)
	cmd.Flags().StringVar(&t.plan, "plan", "", "the rollout plan whose policy the autopilot follows (cut at the current step); default: hold the current split")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up when traffic is not back on stable by then")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// runDrill checks the target with a plain session (reads only), then runs
// the drill on a session whose autopilot can only roll back. The report
// is nil when nothing was attempted.
func runDrill(ctx context.Context, g *globalFlags, t *targetFlags, alarm string, timeout time.Duration) (*drillReport, error) {
	if t.isECS() {
		return runECSDrill(ctx, g, t, alarm, timeout)
	}
	userPlan, err := t.loadPlan()
	if err != nil {
		return nil, err
	}
	pre := *t
	pre.plan, pre.alarms = "", []string{alarm}
	s0, err := openSession(ctx, g, &pre, sessionOptions{via: "drill"})
	if err != nil {
		return nil, err
	}
	snap := s0.engine.PollOnce(ctx)
	s0.close()
	current, err := checkDrillable(snap, alarm)
	if err != nil {
		return nil, err
	}
	plan, err := drillPlan(userPlan, current, timeout)
	if err != nil {
		return nil, err
	}
	planFile, err := writePlanFile(plan)
	if err != nil {
		return nil, withCode(ExitFailure, err)
	}
	defer os.Remove(planFile)

	run := *t
	run.plan, run.alarms, run.paused = planFile, []string{alarm}, true
	s, err := openSession(ctx, g, &run, sessionOptions{via: "drill"})
	if err != nil {
		return nil, err
	}
	defer s.close()
	// Aligns the paused plan with the current step; moves nothing.
	snap = s.engine.PollOnce(ctx)
	if current, err = checkDrillable(snap, alarm); err != nil {
		return nil, err
	}
	cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{Profile: g.profile, Region: g.region, EndpointURL: g.endpointURL, Logger: s.logger,
		CallTimeout: g.callTimeout})
	if err != nil {
		return nil, configErr(err)
	}
	d := &drill{
		s: s, alarms: perchaws.NewAlarms(cfg), name: alarm, target: snap.Target,
		actor: s.actor, rep: &drillReport{Target: snap.Target.ID(), Alarm: alarm, Plan: plan.String(), StartPercent: current},
	}
	d.actor.ARN = snap.Identity.ARN
	return d.rep, d.run(ctx, g.poll, timeout)
}

// checkDrillable refuses a target that is not mid-canary or an alarm that
// does not exist, before anything is written.
func checkDrillable(snap model.Snapshot, alarm string) (float64, error) {
	if !snap.SplitKnown {
		return 0, withCode(ExitRefused, fmt.Errorf("traffic state unknown, nothing written: %s", snap.SplitErr))
	}
	if snap.Target.Kind == model.KindCodeDeploy || snap.Target.Kind == model.KindECS {
		return 0, usageErr("a drill on a CodeDeploy deployment is not supported yet: CodeDeploy's own alarm rollback is the one to drill")
	}
	if why := snap.Target.CanaryUnconfirmed; why != "" {
		// The autopilot could not roll back: a drill would only time out.
		return 0, withCode(ExitRefused, fmt.Errorf("%s: the autopilot would refuse to roll back; name it with --canary-target-group. Nothing written", why))
	}
	pct := snap.Split.CanaryPercent()
	if pct <= 0 || pct >= 100 {
		return 0, usageErr("%s is not mid-canary (canary at %s): nothing to roll back, nothing written",
			snap.Target.ID(), model.FormatPercent(pct))
	}
	if snap.AlarmsErr != "" {
		return 0, withCode(ExitFailure, fmt.Errorf("read alarm %s: %s", alarm, snap.AlarmsErr))
	}
	for _, a := range snap.Alarms {
		switch {
		case a.Name != alarm:
		case a.State == model.AlarmMissing:
			return 0, usageErr("alarm %q not found: nothing written", alarm)
		case a.State == model.AlarmAlarm:
			return 0, withCode(ExitRefused, fmt.Errorf("alarm %s is already in ALARM (%s): that is not a drill; nothing written", alarm, a.Reason))
		}
	}
	return pct, nil
}

// drillPlan is the plan the drill's autopilot runs: the user's plan up to
// and including the step the canary is on (so it cannot advance), that
// step held longer than the drill lasts (so the plan cannot complete and
// stop watching), with the user's policy; or, with no plan, one step at
// the current split.
func drillPlan(user *model.Plan, current float64, timeout time.Duration) (model.Plan, error) {
	hold := timeout + time.Hour
	if user == nil {
		return model.Plan{Name: "drill", Steps: []model.PlanStep{{Percent: current, Bake: hold}}, Policy: model.DefaultPlanPolicy()}, nil
	}
	if !user.Policy.RollbackOnAlarm {
		return model.Plan{}, usageErr("--plan %s does not roll back on alarms (rollback_on_alarm: false): a drill would only time out", user)
	}
	for i, st := range user.Steps {
		if abs(st.Percent-current) < 0.05 {
			p := model.Plan{Name: "drill of " + user.String(), Policy: user.Policy}
			p.Steps = append([]model.PlanStep(nil), user.Steps[:i+1]...)
			p.Steps[i].Bake = max(p.Steps[i].Bake, hold)
			return p, nil
		}
	}
	return model.Plan{}, usageErr("the canary is at %s, which is not a step of --plan %s: the autopilot would move it before any alarm; nothing written",
		model.FormatPercent(current), user)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// writePlanFile writes the plan as YAML for openSession, which reads a
// file when --plan names one: the policy survives, which the step syntax
// would not carry.
func writePlanFile(p model.Plan) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nrollback_on_fail: %t\nrollback_on_alarm: %t\nsteps:\n", strconv.Quote(p.Name), p.Policy.RollbackOnFail, p.Policy.RollbackOnAlarm)
	for _, st := range p.Steps {
		fmt.Fprintf(&b, "  - {percent: %s, bake: %s}\n", strconv.FormatFloat(st.Percent, 'f', -1, 64), st.Bake)
	}
	f, err := os.CreateTemp("", "perch-drill-plan-*.yaml")
	if err != nil {
		return "", fmt.Errorf("write the drill's plan: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write the drill's plan: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write the drill's plan: %w", err)
	}
	return f.Name(), nil
}

type drill struct {
	s      *session
	alarms *perchaws.Alarms
	name   string
	target model.Target
	actor  model.Actor
	rep    *drillReport
	set    bool // SetAlarmState(ALARM) was attempted: restore on the way out
}

func (d *drill) run(ctx context.Context, poll, timeout time.Duration) (err error) {
	defer func() {
		if rerr := d.restore(ctx); rerr != nil {
			d.rep.Error = joinErr(d.rep.Error, rerr.Error())
			if err == nil {
				err = withCode(ExitFailed, rerr)
			}
		}
		d.event()
	}()
	if err := d.setAlarm(ctx, model.AlarmAlarm, "perch drill"); err != nil {
		d.rep.Error = err.Error()
		return withCode(ExitFailed, err)
	}
	setAt := time.Now().UTC()
	d.rep.AlarmSetAt = &setAt
	d.s.engine.SetPaused(false, d.actor)
	deadline := setAt.Add(timeout)
	for {
		snap := d.s.engine.PollOnce(ctx)
		d.rep.FinalSplit = splitOf(snap)
		if snap.Verdict != nil {
			d.rep.Verdict = snap.Verdict.Summary
		}
		if dep := snap.Deployment; dep != nil && dep.Engine == model.EngineECS {
			if dep.RolledBack() {
				d.rolledBackByECS(snap, setAt)
				return nil
			}
		} else if snap.SplitKnown && snap.Split.CanaryPercent() <= 0 {
			at := snap.SplitAt.UTC()
			elapsed := at.Sub(setAt).Seconds()
			d.rep.RolledBack, d.rep.RollbackAt, d.rep.Elapsed = true, &at, &elapsed
			d.rep.By, d.rep.Reason = "outside perch", "the split changed without perch"
			if ap := snap.Autopilot; ap != nil && ap.Decision.Action == model.PlanRollback && snap.Drift == nil {
				d.rep.By, d.rep.Reason = "autopilot", ap.Decision.Reason
			}
			return nil
		}
		if ap := snap.Autopilot; ap != nil && ap.Decision.Action == model.PlanHold && ap.Decision.Blocked != "" {
			d.rep.Error = ap.Decision.Reason
		}
		now := time.Now()
		if !now.Before(deadline) {
			err := fmt.Errorf("no rollback within %s: canary still at %s%s", timeout, model.FormatPercent(snap.Split.CanaryPercent()), causeNote(d.rep.Error))
			d.rep.Error = err.Error()
			return withCode(ExitFailed, err)
		}
		if !firing(snap, d.name) && snap.AlarmsErr == "" {
			// The alarm went back to its data's state before perch saw it:
			// hold it in ALARM until the rollback.
			if err := d.setAlarm(ctx, model.AlarmAlarm, "perch drill (again: the alarm re-evaluated)"); err != nil {
				d.rep.Error = err.Error()
				return withCode(ExitFailed, err)
			}
		}
		wait := min(poll, deadline.Sub(now))
		select {
		case <-ctx.Done():
			err := fmt.Errorf("interrupted before a rollback: canary at %s", model.FormatPercent(snap.Split.CanaryPercent()))
			d.rep.Error = err.Error()
			return withCode(ExitFailure, err)
		case <-time.After(wait):
		}
	}
}

func causeNote(e string) string {
	if e == "" {
		return ""
	}
	return " (" + e + ")"
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func firing(snap model.Snapshot, name string) bool {
	for _, a := range snap.Alarms {
		if a.Name == name {
			return a.State == model.AlarmAlarm
		}
	}
	return false
}

// setAlarm writes the alarm's state with an intent and an outcome in the
// audit log, like any write perch makes.
func (d *drill) setAlarm(ctx context.Context, state model.AlarmState, reason string) error {
	now := time.Now()
	intent, err := d.s.audit.Append(model.AuditEntry{
		Time: now, Actor: d.actor, Target: d.target.ID(), Action: "set-alarm-state", Phase: model.PhaseIntent,
		Reason: "rollback drill", Detail: fmt.Sprintf("alarm %s → %s (%s)", d.name, state, reason),
	})
	if err != nil {
		// Never write what the log cannot account for.
		return fmt.Errorf("audit the alarm write, nothing written: %w", err)
	}
	if state == model.AlarmAlarm {
		d.set = true
		d.rep.AlarmSets++
	}
	werr := d.alarms.SetAlarmState(ctx, d.name, state, reason)
	out := model.AuditEntry{
		Time: time.Now(), Actor: d.actor, Target: d.target.ID(), Action: "set-alarm-state", Phase: model.PhaseOutcome,
		Reason: "rollback drill", IntentSeq: intent.Seq, Outcome: model.OutcomeOK,
		Detail: fmt.Sprintf("alarm %s → %s", d.name, state),
	}
	if werr != nil {
		out.Outcome, out.Detail = model.OutcomeFailed, werr.Error()
	}
	if _, err := d.s.audit.Append(out); err != nil && werr == nil {
		werr = fmt.Errorf("alarm %s set to %s, but the outcome could not be audited: %w", d.name, state, err)
	}
	return werr
}

// restore sets the alarm back to OK, with its own deadline: the drill's
// context may be the one that was cancelled.
func (d *drill) restore(ctx context.Context) error {
	if !d.set {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.setAlarm(rctx, model.AlarmOK, "perch drill: restored after the drill"); err != nil {
		return fmt.Errorf("alarm %s may still be in ALARM, set it back by hand (aws cloudwatch set-alarm-state --alarm-name %s --state-value OK --state-reason manual): %w", d.name, d.name, err)
	}
	at := time.Now().UTC()
	d.rep.AlarmRestored, d.rep.RestoredAt = true, &at
	return nil
}

// event records the drill's result in the audit log.
func (d *drill) event() {
	detail := "no rollback: " + d.rep.Error
	if d.rep.RolledBack {
		detail = fmt.Sprintf("traffic back on stable %s after the alarm was set, by the %s",
			time.Duration(*d.rep.Elapsed*float64(time.Second)).Round(time.Millisecond), d.rep.By)
	}
	if !d.rep.AlarmRestored && d.set {
		detail += "; the alarm was NOT set back to OK"
	}
	d.s.audit.Append(model.AuditEntry{
		Time: time.Now(), Actor: d.actor, Target: d.target.ID(), Action: "drill", Phase: model.PhaseEvent,
		From: model.Pct(d.rep.StartPercent), To: model.Pct(d.rep.FinalSplit.CanaryPercent),
		Reason: "rollback drill of alarm " + d.name, Detail: detail,
	})
}
