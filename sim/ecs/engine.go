package ecs

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// Running deployments: each on the simulation clock, through ECS's
// lifecycle stages, moving the production listener rule's weights, waiting
// at PAUSE hooks and rolling back when an alarm fires.

// startDeployment starts a deployment of s to taskDef at the simulation's
// now. The caller has checked that s has no active deployment.
func (e *Service) startDeployment(s *service, taskDef, id string) *deployment {
	at := e.now
	if id == "" {
		id = e.newID()
	}
	src := s.current
	tg := ""
	if s.lb != nil {
		tg = s.lb.targetGroup
		if s.lb.advanced && s.cfg.strategy != strRolling {
			// The new revision goes to the target group with no production
			// traffic: the alternate of the one serving now.
			tg = s.lb.alternate
			if src != nil && src.tg == s.lb.alternate {
				tg = s.lb.targetGroup
			}
		}
	}
	s.seq++
	rev := s.nextRevision(taskDef, tg, fmt.Sprintf("%d%s", s.seq, id[:8]), at)
	e.revisions[rev.arn] = rev
	s.taskDef = taskDef
	d := &deployment{
		id: id, svc: s, cfg: s.cfg, source: src, target: rev, status: stInProgress,
		created: at, started: at, updated: at,
		arn: fmt.Sprintf("arn:aws:ecs:%s:service-deployment/%s/%s/%s", s.regionAccount(), s.cluster.name, s.name, id),
	}
	d.cfg.hooks = append([]hookSpec(nil), s.cfg.hooks...)
	s.deployments = append(s.deployments, d)
	e.byARN[d.arn] = d
	if d.cfg.strategy == strRolling || src == nil || s.lb == nil || !s.lb.advanced {
		// A rolling deployment replaces tasks in place and shifts nothing.
		d.stage = ""
		d.nextAt = at.Add(s.scaleUp)
		return d
	}
	e.enterStage(d, 0, at)
	return d
}

// enterStage moves d to stages[i] at at: it waits there when a PAUSE hook
// says so, and otherwise does the stage's work, passing straight through
// the stages that take no time.
func (e *Service) enterStage(d *deployment, i int, at time.Time) {
	for ; i < len(stages); i++ {
		d.stageIdx, d.stage, d.updated, d.nextAt = i, stages[i], at, time.Time{}
		if h := d.cfg.hookAt(stages[i]); h != nil && (d.hook == nil || d.hook.stage != stages[i]) {
			d.hookSeq++
			d.hook = &activeHook{id: fmt.Sprintf("%s-hook-%d", d.id[:8], d.hookSeq), targetARN: h.targetARN,
				timeoutAction: h.timeoutAction, stage: stages[i], expires: at.Add(h.timeout)}
			d.nextAt = d.hook.expires
			return
		}
		d.hook = nil
		switch stages[i] {
		case stageScaleUp:
			if d.svc.scaleUp > 0 {
				d.nextAt = at.Add(d.svc.scaleUp)
				return
			}
		case stageProduction:
			d.shiftIdx = 0
			e.shiftTo(d, d.cfg.schedule()[0].pct, at)
			if sched := d.cfg.schedule(); len(sched) > 1 {
				d.nextAt = at.Add(sched[1].after)
				return
			}
		case stageBake:
			if d.cfg.bake > 0 {
				d.nextAt = at.Add(time.Duration(d.cfg.bake) * time.Minute)
				return
			}
		case stageCleanUp:
			d.nextAt = at.Add(cleanUpTime)
			return
		}
	}
}

// transition moves d on from what ends at at.
func (e *Service) transition(d *deployment, at time.Time) {
	d.nextAt = time.Time{}
	switch {
	case d.rollingBack():
		e.finish(d, stRollbackSuccessful, at)
	case d.stage == "":
		e.finish(d, stSuccessful, at)
	case d.hook != nil:
		// The hook timed out: its timeout action decides.
		h := d.hook
		if h.timeoutAction == "CONTINUE" {
			d.hook = nil
			e.resume(d, at)
			return
		}
		e.rollback(d, at, fmt.Sprintf("Lifecycle hook %s at %s timed out (timeoutAction ROLLBACK).", h.id, h.stage))
	case d.stage == stageProduction:
		sched := d.cfg.schedule()
		d.shiftIdx++
		e.shiftTo(d, sched[d.shiftIdx].pct, at)
		if d.shiftIdx+1 < len(sched) {
			d.nextAt = at.Add(sched[d.shiftIdx+1].after - sched[d.shiftIdx].after)
			return
		}
		e.enterStage(d, d.stageIdx+1, at)
	case d.stage == stageCleanUp:
		e.finish(d, stSuccessful, at)
	default:
		e.enterStage(d, d.stageIdx+1, at)
	}
}

// resume does the work of the stage d waited at, once its hook is done.
func (e *Service) resume(d *deployment, at time.Time) {
	// enterStage skips the hook of the stage it is already waiting at.
	d.hook = &activeHook{stage: d.stage}
	e.enterStage(d, d.stageIdx, at)
}

// shiftTo moves production traffic so the target revision has pct percent.
func (e *Service) shiftTo(d *deployment, pct float64, at time.Time) {
	d.pct, d.updated = pct, at
	lb := d.svc.lb
	if lb == nil || !lb.advanced || d.source == nil {
		return
	}
	if err := e.deps.LoadBalancers.ShiftRule(lb.prodRule, weights(d.source.tg, d.target.tg, pct), at); err != nil {
		e.deps.Log.Debug("sim: ecs: cannot move the rule's weights", "rule", lb.prodRule, "err", err)
	}
}

// finish ends d with status at at.
func (e *Service) finish(d *deployment, status string, at time.Time) {
	d.status, d.finished, d.updated, d.nextAt, d.hook = status, at, at, time.Time{}, nil
	d.monitorDone = true
	s := d.svc
	switch status {
	case stSuccessful:
		s.current = d.target
		if d.stage != "" {
			d.stage = stageCleanUp
		}
	case stRollbackSuccessful:
		s.taskDef = d.source.taskDef
	}
}

// rollback sends production traffic back to the source revision at once;
// the rollback then finishes cleaning up.
func (e *Service) rollback(d *deployment, at time.Time, reason string) {
	d.hook = nil
	d.status, d.rbReason, d.rbStarted, d.updated = stRollbackInProgress, reason, at, at
	d.reason = reason
	d.nextAt = at.Add(rollbackTime)
	e.shiftTo(d, 0, at)
}

// stop handles StopServiceDeployment.
func (e *Service) stop(d *deployment, stopType string, at time.Time) {
	if stopType == "ABORT" {
		d.reason = "Service deployment stopped by a StopServiceDeployment request (ABORT)."
		d.stopped = at
		e.finish(d, stStopped, at)
		return
	}
	e.rollback(d, at, "Service deployment rolled back because of a StopServiceDeployment request.")
}

// checkAlarms rolls back, at at, every active deployment one of whose
// alarms is in ALARM.
func (e *Service) checkAlarms(at time.Time) {
	for _, d := range e.activeDeployments() {
		if !d.cfg.alarmsEnable || len(d.cfg.alarms) == 0 || d.rollingBack() {
			continue
		}
		states := e.deps.Alarms.AlarmStatesAt(d.cfg.alarms, at)
		var firing []string
		for _, name := range d.cfg.alarms {
			if states[name] == alarmFiring {
				firing = append(firing, name)
			}
		}
		if len(firing) == 0 || !d.cfg.alarmsRB {
			continue
		}
		d.triggered = firing
		e.rollback(d, at, "Service deployment rolled back because the CloudWatch alarm(s) "+strings.Join(firing, ", ")+" went into ALARM state.")
	}
}

func (e *Service) activeDeployments() []*deployment {
	var out []*deployment
	for _, arn := range awsproto.SortedKeys(e.byARN) {
		if d := e.byARN[arn]; !d.terminal() {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

// nextDue is the earliest scheduled change.
func (e *Service) nextDue() (time.Time, bool) {
	var best time.Time
	ok := false
	consider := func(t time.Time) {
		if !t.IsZero() && (!ok || t.Before(best)) {
			best, ok = t, true
		}
	}
	for _, p := range e.pending {
		consider(p.at)
	}
	for _, d := range e.activeDeployments() {
		consider(d.nextAt)
		consider(d.userStopAt)
	}
	return best, ok
}

// runDue applies everything scheduled at or before at, in time order.
func (e *Service) runDue(at time.Time) {
	for changed := true; changed; {
		changed = false
		for len(e.pending) > 0 && !e.pending[0].at.After(at) {
			p := e.pending[0]
			e.pending = e.pending[1:]
			changed = true
			if p.svc.active() != nil {
				e.deps.Log.Debug("sim: ecs: scripted deployment skipped, the service is busy", "deployment", p.id)
				continue
			}
			d := e.startDeployment(p.svc, p.taskDef, p.id)
			if p.stopAfter > 0 {
				d.userStopAt = d.created.Add(p.stopAfter)
			}
		}
		for _, d := range e.activeDeployments() {
			switch {
			case !d.userStopAt.IsZero() && !d.userStopAt.After(at) && !d.rollingBack():
				d.userStopAt = time.Time{}
				e.stop(d, "ROLLBACK", at)
				changed = true
			case !d.nextAt.IsZero() && !d.nextAt.After(at):
				e.transition(d, d.nextAt)
				changed = true
			}
		}
	}
}

// Advance plays ECS up to now: scripted deployments, stages, shifts, hook
// timeouts and alarm checks, each at its own time, with the traffic models
// brought to that time first. Alarms are checked every minute while a
// deployment is active, and at now.
func (e *Service) Advance(now time.Time) {
	if now.Before(e.now) {
		now = e.now
	}
	for {
		at, ok := e.NextDue()
		if !ok || at.After(now) {
			break
		}
		e.moveTo(at)
		e.checkAlarms(at)
		e.runDue(at)
	}
	e.moveTo(now)
	e.checkAlarms(now)
}

func (e *Service) moveTo(at time.Time) {
	if at.Before(e.now) {
		at = e.now
	}
	e.deps.Traffic.AdvanceTo(at)
	e.now = at
}

// NextDue is when ECS next has something to do: a scheduled change
// or, while a deployment is active, the next minute's alarm check. The
// simulator advances the services that move traffic together, each to
// the earliest of their next changes in turn, so that one's change is
// not recorded after another has already played the traffic past it.
func (e *Service) NextDue() (time.Time, bool) {
	at, ok := e.nextDue()
	if len(e.activeDeployments()) > 0 {
		if tick := e.now.Truncate(time.Minute).Add(time.Minute); !ok || tick.Before(at) {
			at, ok = tick, true
		}
	}
	return at, ok
}
