package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
)

// The rollback drill on an ECS service deployment: ECS, not perch's
// autopilot, rolls back when one of the deployment's alarms is in ALARM,
// so the drill sets such an alarm and times ECS's own rollback. perch
// moves no traffic; the alarm is set back to OK afterwards, as always.

func runECSDrill(ctx context.Context, g *globalFlags, t *targetFlags, alarm string, timeout time.Duration) (*drillReport, error) {
	if t.plan != "" {
		return nil, usageErr("--plan: ECS runs its own strategy; a drill on an ECS deployment times ECS's rollback")
	}
	run := *t
	run.alarms = []string{alarm}
	s, err := openSession(ctx, g, &run, sessionOptions{via: "drill"})
	if err != nil {
		return nil, err
	}
	defer s.close()
	snap := s.engine.PollOnce(ctx)
	current, err := checkECSDrillable(snap, alarm)
	if err != nil {
		return nil, err
	}
	cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{Profile: g.profile, Region: g.region, EndpointURL: g.endpointURL, Logger: s.logger,
		CallTimeout: g.callTimeout})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	d := &drill{
		s: s, alarms: perchaws.NewAlarms(cfg), name: alarm, target: snap.Target,
		actor: s.actor, rep: &drillReport{Target: snap.Target.ID(), Alarm: alarm, Plan: "ECS " + snap.Deployment.Config, StartPercent: current},
	}
	d.actor.ARN = snap.Identity.ARN
	return d.rep, d.run(ctx, g.poll, timeout)
}

// checkECSDrillable refuses, before anything is written, a deployment
// that has finished or is already rolling back, and an alarm ECS does not
// watch for it (ECS would never roll back on it).
func checkECSDrillable(snap model.Snapshot, alarm string) (float64, error) {
	d := snap.Deployment
	switch {
	case d == nil || d.Status == "?":
		why := "no read"
		if d != nil {
			why = d.ReadErr
		}
		return 0, withCode(ExitRefused, fmt.Errorf("deployment state unknown, nothing written: %s", why))
	case d.Decided():
		return 0, usageErr("service deployment %s is %s (%s): nothing to roll back, nothing written", d.ID, d.Status, d.EndedBy())
	case !slices.Contains(d.Alarms, alarm):
		return 0, usageErr("alarm %q is not one of the deployment's alarms (%v): ECS would not roll back on it; nothing written", alarm, d.Alarms)
	case !d.AutoRollback:
		return 0, usageErr("the deployment's alarms do not roll it back: nothing written")
	}
	for _, a := range snap.Alarms {
		if a.Name == alarm && a.State == model.AlarmAlarm {
			return 0, withCode(ExitRefused, errors.New("alarm "+alarm+" is already in ALARM: that is not a drill; nothing written"))
		}
	}
	return snap.Split.CanaryPercent(), nil
}

// rolledBackByECS fills the report once ECS has begun its rollback.
func (d *drill) rolledBackByECS(snap model.Snapshot, setAt time.Time) {
	at := snap.Deployment.ReadAt.UTC()
	if at.IsZero() {
		at = time.Now().UTC()
	}
	elapsed := at.Sub(setAt).Seconds()
	d.rep.RolledBack, d.rep.RollbackAt, d.rep.Elapsed = true, &at, &elapsed
	d.rep.By, d.rep.Reason = "ECS", snap.Deployment.Status+": "+snap.Deployment.EndedBy()
}
