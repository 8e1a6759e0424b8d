package ui

import (
	"fmt"
	"strings"

	"github.com/perch-dev/perch/model"
)

// The cockpit's words for an ECS service deployment: ECS moves the
// production listener rule by the service's strategy, through lifecycle
// stages, and may wait at a PAUSE hook for the operator, which must be
// impossible to miss.

// ecsShortID is the deployment's ID: the last part of its ARN.
func ecsShortID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// ecsDeploymentLine is the header's third line for ECS: the deployment,
// its status, the countdown (next shift, end of bake, hook timeout), the
// lifecycle stage and the strategy, most important first.
func (h *header) ecsDeploymentLine(d *model.DeploymentStatus) string {
	st, e, now := h.st, d.ECS, h.at()
	status := d.Status
	switch {
	case e.Hook != nil:
		status = st.Banner.Render("⏸ HOOK AWAITS ACTION")
	case d.Status == model.ECSSuccessful:
		status = st.OK.Render("✓ " + status)
	case d.RolledBack() || d.Status == model.ECSStopped:
		status = st.Bad.Render("✗ " + status)
	case d.Status == "?":
		status = st.Bad.Render("? unknown")
	default:
		status = st.Warn.Render("⟳ " + status)
	}
	segs := []string{st.Dim.Render("deploy ") + st.Bold.Render(shorten(ecsShortID(d.ID), shortWidth)), status}
	switch {
	case e.Hook != nil && !e.Hook.ExpiresAt.IsZero():
		segs = append(segs, st.Warn.Render(e.Hook.TimeoutAction+" in "+age(e.Hook.ExpiresAt.Sub(now))))
	case !d.NextShiftAt.IsZero():
		when := "in " + st.Bold.Render(age(d.NextShiftAt.Sub(now)))
		if !d.NextShiftAt.After(now) {
			when = st.Bold.Render("due now")
		}
		segs = append(segs, "next → "+st.Canary.Render(pct(d.NextShiftTo))+" "+when)
	case !e.BakeEndsAt.IsZero():
		segs = append(segs, "bake ends in "+st.Bold.Render(age(max(0, e.BakeEndsAt.Sub(now)))))
	}
	if e.Stage != "" {
		segs = append(segs, st.Dim.Render("stage ")+e.Stage)
	}
	if d.ReadErr != "" {
		segs = append(segs, st.Bad.Render("✗ "+shorten(d.ReadErr, 40)))
	}
	segs = append(segs, st.Dim.Render("ECS "+e.Strategy.String()))
	if d.Step != "" && d.Step != "stage "+e.Stage {
		segs = append(segs, shorten(d.Step, 2*nameWidth))
	}
	return joinFit(segs, st.Sep, h.width)
}

// ecsBanner is the gauge's line for an ECS deployment: a hook awaiting
// action (with its timeout and what happens then), or how it ended.
func (g *gauge) ecsBanner(d *model.DeploymentStatus) string {
	st, e := g.st, d.ECS
	at := ""
	if !d.CompletedAt.IsZero() {
		at = " at " + hms(d.CompletedAt)
	}
	switch {
	case e.Hook != nil:
		head := fmt.Sprintf("⏸ PAUSED at %s: lifecycle hook %s AWAITS ACTION", e.Hook.Stage, e.Hook.ID)
		tail := " — c continues, r rolls back"
		if !e.Hook.ExpiresAt.IsZero() {
			tail += fmt.Sprintf(" · times out in %s (at %s) → %s", age(max(0, e.Hook.ExpiresAt.Sub(g.snap.Now))), hms(e.Hook.ExpiresAt), e.Hook.TimeoutAction)
		}
		if visibleWidth(head+tail) <= g.width {
			return st.Banner.Render(head + tail)
		}
		// Narrow: the hook on one line, what to do and when it times out
		// on the next; neither may be cut off.
		head = fmt.Sprintf("⏸ PAUSED at %s: hook %s AWAITS ACTION", e.Hook.Stage, e.Hook.ID)
		return st.Banner.Render(trunc(head, g.width)) + "\n" + st.Banner.Render(trunc("  "+tail[len(" — "):], g.width))
	case d.RollingBack() || d.Terminal() && d.RolledBack():
		return st.Banner.Render(strings.ToUpper(strings.ReplaceAll(d.Status, "_", " ")) + " by ECS" + at + ": " + d.EndedBy() + " · all traffic back on " + g.snap.Target.StableName)
	case d.Status == model.ECSSuccessful:
		return st.OK.Render("✓ service deployment succeeded" + at + ": all traffic on " + g.snap.Target.CanaryName)
	case d.Terminal():
		return st.Warn.Render("⚠ " + d.Status + at + " (" + d.EndedBy() + "): traffic stays at canary " + pct(g.snap.Split.CanaryPercent()))
	}
	return ""
}

// ecsLadder is the strategy's steps, as the gauge's ladder.
func ecsLadder(s model.ECSStrategy) []float64 {
	out := []float64{0}
	switch s.Name {
	case "CANARY":
		if s.Percent < 100 {
			out = append(out, s.Percent)
		}
	case "LINEAR":
		for p := s.Percent; p > 0 && p < 100; p += s.Percent {
			out = append(out, p)
		}
	}
	return append(out, 100)
}
