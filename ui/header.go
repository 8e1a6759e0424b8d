package ui

import (
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// header is the top two lines: what perch is attached to, as whom, the
// snapshot's clock, and how fresh each data source is.
type header struct {
	stale
	st       *Styles
	actor    model.Actor
	poll     time.Duration
	readOnly bool
	// production says whether an account is production (nil: never).
	production func(account string) bool
	title      string
	pair       string // who drives and who watches, in a shared session
	replay     string // the replay's mode and position
	width      int
	snap       model.Snapshot
	// now is the clock as the cockpit last read it; zero when it has no
	// clock (a replay), and the snapshot's time then stands for it.
	now  time.Time
	view string
}

const headerHeight = 2

// Height is two lines, three on a CodeDeploy deployment.
func (h *header) Height() int {
	if h.snap.Deployment != nil {
		return headerHeight + 1
	}
	return headerHeight
}

func (h *header) SetSize(w, _ int) { set(&h.stale, &h.width, w) }

func (h *header) SetSnapshot(s model.Snapshot) { h.snap = s; h.invalidate() }

// SetNow moves the header's clock: ages grow while no snapshot arrives,
// which is exactly when every call is hanging.
func (h *header) SetNow(t time.Time) { h.now = t; h.invalidate() }

// SetReadOnly marks the first line [READ-ONLY].
func (h *header) SetReadOnly(ro bool) { set(&h.stale, &h.readOnly, ro) }

// SetPair is the shared session's "who drives" segment ("" for none).
func (h *header) SetPair(line string) { set(&h.stale, &h.pair, line) }

// SetReplay is the replay's mode and position ("" for none).
func (h *header) SetReplay(line string) { set(&h.stale, &h.replay, line) }

// at is the time the header measures ages against: the clock, or the
// snapshot's time when that is newer or there is no clock.
func (h *header) at() time.Time {
	if h.now.After(h.snap.Now) {
		return h.now
	}
	return h.snap.Now
}

func (h *header) View() string { return h.view }

func (h *header) render() {
	s, st := h.snap, h.st

	brand := brandLine(st, "perch", h.title, h.readOnly)
	if h.production != nil && h.production(s.Identity.Account) {
		brand += " " + st.Bad.Render("[PROD]")
	}
	target := st.Bold.Render(shorten(s.Target.Name, nameWidth))
	if where := strings.TrimSpace(string(s.Target.Kind) + " " + s.Target.Region); where != "" {
		target += st.Dim.Render(" (" + where + ")")
	}
	segs := []string{brand, target}
	arn := s.Identity.ARN
	if arn == "" {
		arn = h.actor.ARN
	}
	who := ""
	if arn != "" {
		who = shorten(shortARN(arn), nameWidth)
	}
	if h.actor.OSUser != "" {
		if who != "" {
			who += " "
		}
		who += "(" + shorten(h.actor.OSUser, shortWidth) + ")"
	}
	now := h.at()
	clockStr := clock(st, now)
	if who != "" {
		segs = append(segs, who)
	}
	// The clock matters more than the identity on a narrow screen: put it
	// before the identity when space is short.
	line1 := joinFit(append(segs, clockStr), st.Sep, h.width)
	if !strings.Contains(line1, hms(now)) {
		line1 = joinFit(append(segs[:2], clockStr), st.Sep, h.width)
	}

	fresh := []string{
		h.freshness("split", s.SplitAt, s.SplitErr),
		h.freshness("metrics", s.MetricsAt, s.MetricsErr),
	}
	// With no alarms watched there is nothing to be fresh or stale about.
	if len(s.Alarms) > 0 || !s.AlarmsAt.IsZero() || s.AlarmsErr != "" {
		fresh = append(fresh, h.freshness("alarms", s.AlarmsAt, s.AlarmsErr))
	}
	line2 := st.Dim.Render("data ") + strings.Join(fresh, st.Sep)
	// Who drives matters more than how fresh the data is: it goes first,
	// so a narrow screen cuts the freshness instead.
	if h.replay != "" {
		line2 = h.replay + st.Sep + line2
	}
	if h.pair != "" {
		line2 = h.pair + st.Sep + line2
	}
	h.view = trunc(line1, h.width) + "\n" + trunc(line2, h.width)
	if d := s.Deployment; d != nil {
		h.view += "\n" + trunc(h.deploymentLine(d), h.width)
	}
}

// brandLine starts the first line of the cockpit and the fleet view: the
// program, the title and whether writes are off.
func brandLine(st *Styles, name, title string, readOnly bool) string {
	out := st.Brand.Render(name)
	if title != "" {
		out += " " + st.Dim.Render(shorten(title, nameWidth))
	}
	if readOnly {
		out += " " + st.Warn.Render("[READ-ONLY]")
	}
	return out
}

// clock is the snapshot's time on the first line.
func clock(st *Styles, t time.Time) string { return st.Bold.Render(hms(t) + " UTC") }

// deploymentLine is what CodeDeploy is doing: the deployment, its status,
// the countdown to the next shift and the step of its configuration, most
// important first so a narrow screen drops the configuration's name.
func (h *header) deploymentLine(d *model.DeploymentStatus) string {
	if d.ECS != nil {
		return h.ecsDeploymentLine(d)
	}
	st := h.st
	status := d.Status
	switch {
	case d.Waiting == model.WaitReady:
		status = st.Warn.Render("⏸ " + status + ": press c to continue")
	case d.Waiting == model.WaitTermination:
		status = st.Warn.Render("⏸ " + status + ": c ends the termination wait")
	case d.Status == "Succeeded":
		status = st.OK.Render("✓ " + status)
	case d.Status == "Stopped" || d.Status == "Failed":
		status = st.Bad.Render("✗ " + status)
	case d.Status == "?":
		status = st.Bad.Render("? unknown")
	default:
		status = st.Warn.Render("⟳ " + status)
	}
	segs := []string{st.Dim.Render("deploy ") + st.Bold.Render(shorten(d.ID, shortWidth)), status}
	// The countdown before the step's words: it is what a narrow screen
	// must keep.
	if !d.NextShiftAt.IsZero() {
		when := "in " + st.Bold.Render(age(d.NextShiftAt.Sub(h.at())))
		if !d.NextShiftAt.After(h.at()) {
			when = st.Bold.Render("due now")
		}
		segs = append(segs, "next → "+st.Canary.Render(pct(d.NextShiftTo))+" "+when)
	}
	if d.Step != "" {
		segs = append(segs, shorten(d.Step, 2*nameWidth))
	}
	if d.ReadErr != "" {
		segs = append(segs, st.Bad.Render("✗ "+shorten(d.ReadErr, 40)))
	}
	if d.Config != "" {
		segs = append(segs, st.Dim.Render(shorten(strings.TrimPrefix(d.Config, "CodeDeployDefault."), nameWidth)))
	}
	return joinFit(segs, st.Sep, h.width)
}

// staleAfter is the age at which a source is STALE: a poll that should
// have refreshed it is overdue by a whole interval.
func staleAfter(poll time.Duration) time.Duration { return 2 * poll }

// freshness says how old one source's data is, measured against the clock
// (not the last poll that finished: a poll whose calls all hang finishes
// late or never), loudly when it is stale or the last read failed.
func (h *header) freshness(name string, at time.Time, errText string) string {
	st := h.st
	var out string
	switch {
	case at.IsZero():
		out = st.Warn.Render(name + " ? never read")
	default:
		a := h.at().Sub(at)
		if a > staleAfter(h.poll) {
			out = st.Bad.Render(name + " STALE " + age(a))
		} else {
			out = name + " " + age(a)
		}
	}
	if errText != "" {
		out += " " + st.Bad.Render("✗ "+shorten(errText, 24))
	}
	return out
}
