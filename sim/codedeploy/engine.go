package codedeploy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// Creating and running deployments: each on the simulation clock, by its
// configuration, moving the ALB rule's weights or the Lambda alias's
// routing, and stopping when a watched alarm fires.

// createOptions are CreateDeployment's inputs that matter here.
type createOptions struct {
	id, creator, description string
	config                   *cdConfig
	target                   string // Lambda: the version to deploy ("" for the group's)
}

// create starts a deployment in g at the simulation's now. The caller has
// checked that g has no active deployment.
func (c *Service) create(g *cdGroup, o createOptions) (*cdDeployment, *awsproto.Error) {
	at := c.now
	if o.id == "" {
		o.id = c.newID()
	}
	if o.creator == "" {
		o.creator = "user"
	}
	d := &cdDeployment{
		id: o.id, group: g, config: o.config, creator: o.creator, description: o.description,
		status: cdInProgress, created: at, started: at, updated: at,
		autoRollback: g.autoRollback, rollbackEvents: append([]string(nil), g.rollbackEvents...),
	}
	switch g.platform {
	case cdECS:
		w, err := c.deps.LoadBalancers.RuleWeights(g.ruleARN)
		if err != nil {
			return nil, &awsproto.Error{Status: 400, Code: "InvalidLoadBalancerInfoException",
				Message: fmt.Sprintf("the deployment group's listener rule cannot be read: %v", err), Sender: true}
		}
		// The target group carrying production traffic is blue; the
		// replacement goes to the other one.
		d.blue, d.green = g.tgs[0], g.tgs[1]
		if w[g.tgs[1].arn] > w[g.tgs[0].arn] {
			d.blue, d.green = g.tgs[1], g.tgs[0]
		}
		names := []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
			"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}
		d.hooks = plannedHooks(names, at, g.installTime, 5)
	case cdLambda:
		current, weights, err := c.deps.Functions.Routing(g.function, g.alias)
		if err != nil {
			return nil, &awsproto.Error{Status: 400, Code: "InvalidLambdaFunctionException",
				Message: fmt.Sprintf("the deployment group's alias cannot be read: %v", err), Sender: true}
		}
		if len(weights) > 0 {
			return nil, &awsproto.Error{Status: 400, Code: "InvalidLambdaFunctionException",
				Message: fmt.Sprintf("alias %s:%s already routes traffic to an additional version; CodeDeploy needs it on one version", g.function, g.alias), Sender: true}
		}
		d.current, d.target = current, o.target
		if d.target == "" {
			d.target = g.targetVersion
		}
		if !c.deps.Functions.HasVersion(g.function, d.target) || d.target == "$LATEST" {
			return nil, &awsproto.Error{Status: 400, Code: "InvalidRevisionException",
				Message: fmt.Sprintf("target version %q of %s is not a published version", d.target, g.function), Sender: true}
		}
		if d.target == d.current {
			return nil, &awsproto.Error{Status: 400, Code: "InvalidRevisionException",
				Message: fmt.Sprintf("alias %s:%s already points at version %s", g.function, g.alias, d.target), Sender: true}
		}
		d.hooks = plannedHooks([]string{"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}, at, g.installTime, 0)
	case cdServer:
		names := []string{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"}
		d.hooks = plannedHooks(names, at, g.installTime, len(names))
	}
	d.phase, d.nextAt = phInstall, at.Add(g.installTime)
	g.deployments = append(g.deployments, d)
	c.byID[d.id] = d
	return d, nil
}

// plannedHooks spreads the first n hooks evenly over the install time and
// leaves the rest unplanned.
func plannedHooks(names []string, at time.Time, install time.Duration, n int) []*cdHook {
	hooks := make([]*cdHook, len(names))
	for i, name := range names {
		hooks[i] = &cdHook{name: name}
		if i < n {
			hooks[i].start = at.Add(install * time.Duration(i) / time.Duration(n))
			hooks[i].end = at.Add(install * time.Duration(i+1) / time.Duration(n))
		}
	}
	return hooks
}

// nextDue is the earliest scheduled change: a scripted deployment to
// create, a deployment's next transition or a scripted stop.
func (c *Service) nextDue() (time.Time, bool) {
	var best time.Time
	ok := false
	consider := func(t time.Time) {
		if !t.IsZero() && (!ok || t.Before(best)) {
			best, ok = t, true
		}
	}
	for _, p := range c.pending {
		consider(p.at)
	}
	for _, d := range c.activeDeployments() {
		consider(d.nextAt)
		consider(d.userStopAt)
	}
	return best, ok
}

func (c *Service) activeDeployments() []*cdDeployment {
	var out []*cdDeployment
	for _, id := range awsproto.SortedKeys(c.byID) {
		if d := c.byID[id]; !d.terminal() {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

// runDue applies everything scheduled at or before at, in time order.
func (c *Service) runDue(at time.Time) {
	for {
		changed := false
		for i := 0; i < len(c.pending); i++ {
			p := c.pending[i]
			if p.at.After(at) {
				continue
			}
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			i--
			changed = true
			if p.group.active() != nil {
				c.deps.Log.Debug("sim: codedeploy: scripted deployment skipped, the group is busy", "deployment", p.id)
				continue
			}
			cfg := c.configs[p.group.config]
			if p.spec.Config != "" {
				cfg = c.configs[p.spec.Config]
			}
			d, aerr := c.create(p.group, createOptions{id: p.id, description: p.spec.Description, config: cfg, target: p.spec.TargetVersion})
			if aerr != nil {
				c.deps.Log.Debug("sim: codedeploy: scripted deployment not created", "deployment", p.id, "err", aerr)
				continue
			}
			if p.stopAfter > 0 {
				d.userStopAt = d.created.Add(p.stopAfter)
			}
		}
		for _, d := range c.activeDeployments() {
			if !d.userStopAt.IsZero() && !d.userStopAt.After(at) {
				d.userStopAt = time.Time{}
				c.stop(d, at, "MANUAL_STOP", "The deployment was stopped by a StopDeployment request.", true, "a user request")
				changed = true
				continue
			}
			if !d.nextAt.IsZero() && !d.nextAt.After(at) {
				c.transition(d, d.nextAt)
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// transition moves d on from the phase that ends at at.
func (c *Service) transition(d *cdDeployment, at time.Time) {
	d.nextAt = time.Time{}
	d.updated = at
	g := d.group
	switch d.phase {
	case phInstall:
		if g.platform == cdServer {
			c.complete(d, at)
			return
		}
		if g.platform == cdECS && g.readyWait > 0 {
			d.phase, d.status = phReady, cdReady
			d.nextAt = at.Add(g.readyWait)
			return
		}
		c.startShift(d, at)
	case phReady:
		c.fail(d, at, "TIMEOUT", fmt.Sprintf("The deployment was not continued within the %s ready wait (actionOnTimeout STOP_DEPLOYMENT).", g.readyWait))
	case phShift:
		sched := d.config.schedule()
		c.setGreen(d, sched[d.shiftIdx].pct, at)
		d.shiftIdx++
		if d.shiftIdx < len(sched) {
			d.nextAt = d.shiftStart.Add(sched[d.shiftIdx].after)
			return
		}
		d.hook("AllowTraffic").end = at
		if h := d.hook("AfterAllowTraffic"); h != nil {
			h.start, h.end = at, at
		}
		if g.platform == cdECS && g.terminationWait > 0 {
			d.phase, d.termWaitStarted = phTermWait, true
			d.nextAt = at.Add(g.terminationWait)
			return
		}
		c.complete(d, at)
	case phTermWait:
		c.complete(d, at)
	case phRollback:
		d.hook("AllowTraffic").end = at
		d.hook("AfterAllowTraffic").start, d.hook("AfterAllowTraffic").end = at, at
		d.phase, d.status, d.completed = phDone, cdSucceeded, at
	}
}

func (c *Service) startShift(d *cdDeployment, at time.Time) {
	d.phase, d.status, d.shiftStart, d.shiftIdx = phShift, cdInProgress, at, 0
	if h := d.hook("BeforeAllowTraffic"); h != nil {
		h.start, h.end = at, at
	}
	d.hook("AllowTraffic").start = at
	// The first shift happens at once.
	c.transition(d, at)
}

func (c *Service) complete(d *cdDeployment, at time.Time) {
	d.phase, d.status, d.completed, d.updated = phDone, cdSucceeded, at, at
	d.nextAt = time.Time{}
	if d.group.platform == cdECS {
		d.blueGone = true
	}
	if d.group.platform == cdLambda {
		// The alias now points at the new version alone.
		c.setAlias(d.group, d.target, nil)
	}
}

// setGreen moves traffic so the replacement has pct percent.
func (c *Service) setGreen(d *cdDeployment, pct float64, at time.Time) {
	d.greenPct, d.updated = pct, at
	g := d.group
	switch g.platform {
	case cdECS:
		p := int(pct + 0.5)
		if err := c.deps.LoadBalancers.ShiftRule(g.ruleARN, map[string]int{d.blue.arn: 100 - p, d.green.arn: p}, at); err != nil {
			c.deps.Log.Debug("sim: codedeploy: cannot move the rule's weights", "rule", g.ruleARN, "err", err)
			return
		}
	case cdLambda:
		if pct >= 100 {
			c.setAlias(g, d.target, nil)
			return
		}
		c.setAlias(g, d.current, map[string]float64{d.target: pct / 100})
	}
}

// setAlias points the group's alias; the traffic model records the change
// at its own now, which advance has just moved to the change's time.
func (c *Service) setAlias(g *cdGroup, fv string, weights map[string]float64) {
	if err := c.deps.Functions.RouteAlias(g.function, g.alias, fv, weights); err != nil {
		c.deps.Log.Debug("sim: codedeploy: cannot route the alias", "alias", g.function+":"+g.alias, "err", err)
	}
}

// freezeHooks fixes every planned hook's status at at: what ran
// succeeded, what was running failed, what had not started is skipped.
func (d *cdDeployment) freezeHooks(at time.Time) {
	for _, h := range d.hooks {
		switch h.statusAt(at) {
		case "Succeeded":
			h.status = "Succeeded"
		case "InProgress":
			h.status, h.end = "Failed", at
		case "Pending":
			h.status = "Skipped"
		}
	}
}

// rollsBackOn reports whether the deployment's automatic rollback covers
// event.
func (d *cdDeployment) rollsBackOn(event string) bool {
	if !d.autoRollback {
		return false
	}
	for _, e := range d.rollbackEvents {
		if e == event {
			return true
		}
	}
	return false
}

// stop ends d as Stopped and, when rollback, starts a rollback deployment
// that puts traffic back on the original side at once.
func (c *Service) stop(d *cdDeployment, at time.Time, code, msg string, rollback bool, why string) {
	c.end(d, at, cdStopped, code, msg, rollback, why)
}

func (c *Service) fail(d *cdDeployment, at time.Time, code, msg string) {
	c.end(d, at, cdFailed, code, msg, d.rollsBackOn(cdOnFailure), "it failed")
}

func (c *Service) end(d *cdDeployment, at time.Time, status, code, msg string, rollback bool, why string) {
	d.freezeHooks(at)
	d.status, d.completed, d.updated, d.phase, d.nextAt = status, at, at, phDone, time.Time{}
	d.errCode, d.errMessage = code, msg
	if !rollback || d.group.platform == cdServer {
		return
	}
	g := d.group
	r := &cdDeployment{
		id: c.newID(), group: g, config: c.configs[allAtOnce(g.platform)], creator: "codeDeployRollback",
		description: "Rollback of deployment " + d.id,
		status:      cdInProgress, created: at, started: at, updated: at,
		rollbackOf: d.id, blue: d.blue, green: d.green, current: d.target, target: d.current,
		phase: phRollback, nextAt: at.Add(cdRollbackTime),
	}
	r.hooks = []*cdHook{{name: "BeforeAllowTraffic", start: at, end: at}, {name: "AllowTraffic", start: at}, {name: "AfterAllowTraffic"}}
	r.rollbackMsg = fmt.Sprintf("Rollback of deployment %s, which was stopped because %s: traffic goes back to the original %s.",
		d.id, why, originalWhat(d))
	d.rollbackID = r.id
	d.rollbackMsg = fmt.Sprintf("Deployment %s was rolled back by deployment %s because %s.", d.id, r.id, why)
	g.deployments = append(g.deployments, r)
	c.byID[r.id] = r
	// Traffic goes back at once; the rollback deployment then cleans up.
	switch g.platform {
	case cdECS:
		c.setGreen(d, 0, at)
		r.greenPct = 0
	case cdLambda:
		d.greenPct = 0
		c.setAlias(g, d.current, nil)
		r.greenPct = 100
	}
}

func allAtOnce(platform string) string {
	if platform == cdLambda {
		return "CodeDeployDefault.LambdaAllAtOnce"
	}
	return "CodeDeployDefault.ECSAllAtOnce"
}

func originalWhat(d *cdDeployment) string {
	if d.group.platform == cdLambda {
		return "version " + d.current
	}
	return "task set (target group " + d.blue.name + ")"
}

// checkAlarms stops, at at, every active deployment one of whose group's
// alarms is in ALARM, rolling it back when its group says so.
func (c *Service) checkAlarms(at time.Time) {
	for _, d := range c.activeDeployments() {
		g := d.group
		if len(g.alarms) == 0 || d.creator == "codeDeployRollback" {
			continue
		}
		states := c.deps.Alarms.AlarmStatesAt(g.alarms, at)
		var firing []string
		for _, name := range g.alarms {
			if states[name] == alarmFiring {
				firing = append(firing, name)
			}
		}
		if len(firing) == 0 {
			continue
		}
		c.stop(d, at, "ALARM_ACTIVE",
			"One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <"+
				strings.Join(firing, ", ")+">",
			d.rollsBackOn(cdOnAlarm), "alarm "+strings.Join(firing, ", ")+" went to ALARM")
	}
}

// Advance plays CodeDeploy up to now: scripted
// deployments, shifts, waits and alarm checks, each at its own time, with
// the traffic models brought to that time first so that a change lands in
// the right period. Alarms are checked every minute while a deployment is
// active, and at now.
func (c *Service) Advance(now time.Time) {
	if now.Before(c.now) {
		now = c.now
	}
	for {
		at, ok := c.NextDue()
		if !ok || at.After(now) {
			break
		}
		c.moveTo(at)
		c.checkAlarms(at)
		c.runDue(at)
	}
	c.moveTo(now)
	c.checkAlarms(now)
}

func (c *Service) moveTo(at time.Time) {
	if at.Before(c.now) {
		at = c.now
	}
	c.deps.Traffic.AdvanceTo(at)
	c.now = at
}

// NextDue is when CodeDeploy next has something to do: a scheduled change
// or, while a deployment is active, the next minute's alarm check. The
// simulator advances the services that move traffic together, each to
// the earliest of their next changes in turn, so that one's change is
// not recorded after another has already played the traffic past it.
func (c *Service) NextDue() (time.Time, bool) {
	at, ok := c.nextDue()
	if len(c.activeDeployments()) > 0 {
		if tick := c.now.Truncate(time.Minute).Add(time.Minute); !ok || tick.Before(at) {
			at, ok = tick, true
		}
	}
	return at, ok
}
