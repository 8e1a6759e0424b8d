package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// gauge shows the traffic split: configured weights as a bar and in words,
// the ladder with the current step, the observed canary share, each side's
// health, and the warnings that must not be missed (unknown state, drift,
// an action in flight).
type gauge struct {
	stale
	st      *Styles
	width   int
	snap    model.Snapshot
	pending string // an action this cockpit sent that the engine has not reported yet
	lines   []string
	view    string
}

// observedWindow is how far back the observed canary share looks.
const observedWindow = 5 * time.Minute

func (g *gauge) SetSize(w, _ int) { set(&g.stale, &g.width, w) }

func (g *gauge) SetSnapshot(s model.Snapshot) { g.snap = s; g.invalidate() }

func (g *gauge) SetPending(p string) { set(&g.stale, &g.pending, p) }

// Height is the lines of the last drawing: the layout draws the gauge
// before it asks.
func (g *gauge) Height() int { return len(g.lines) }

func (g *gauge) View() string { return g.view }

func (g *gauge) render() {
	s, st := g.snap, g.st
	var lines []string
	if !s.SplitKnown {
		why := s.SplitErr
		if why == "" {
			why = "no successful read yet"
		}
		head, tail := "TRAFFIC STATE UNKNOWN: "+firstLine(why), " — writes disabled until a read succeeds"
		if visibleWidth(head+tail) <= g.width {
			lines = append(lines, st.Banner.Render(head+tail))
		} else {
			// Never let the error text push the consequence off screen.
			lines = append(lines, st.Banner.Render(trunc(head, g.width)), st.Banner.Render("  "+tail[1:]))
		}
	}
	lines = append(lines, g.bar(), g.ladderLine(), g.healthLine())
	if t := s.Target; t.CanaryUnconfirmed != "" {
		what := "CANARY UNCONFIRMED"
		if t.CanarySource == model.CanaryGuessed {
			what = "CANARY IS A GUESS"
		}
		lines = append(lines, st.Banner.Render(fmt.Sprintf("%s: ▲ %s — writes refused until you say which side is the canary (any write key asks)", what, t.CanaryName)))
	}
	if d := s.Deployment; d != nil {
		if l := g.deploymentBanner(d); l != "" {
			// A banner may take two lines on a narrow screen.
			lines = append(lines, strings.Split(l, "\n")...)
		}
	}
	if busy := s.Busy; busy != "" || g.pending != "" {
		if busy == "" {
			busy = g.pending
		}
		if !strings.HasSuffix(busy, "…") {
			busy += "…"
		}
		lines = append(lines, st.Warn.Render("⟳ "+busy))
	}
	if d := s.Drift; d != nil {
		lines = append(lines, st.Banner.Render(fmt.Sprintf("DRIFT: split changed outside perch: %s → %s at %s",
			pct(d.From.CanaryPercent()), pct(d.To.CanaryPercent()), hms(d.At))))
	}
	for i, l := range lines {
		lines[i] = trunc(l, g.width)
	}
	g.lines = lines
	g.view = strings.Join(lines, "\n")
}

func (g *gauge) bar() string {
	s, st := g.snap, g.st
	left, right := "stable ?", "canary ?"
	if s.SplitKnown {
		left = "stable " + pct(s.Split.StablePercent())
		right = "canary " + pct(s.Split.CanaryPercent())
	}
	left = fmt.Sprintf("%-11s", "■ "+left)
	right = "▲ " + right
	extra := ""
	if !s.SplitKnown && !s.SplitAt.IsZero() && s.Split.StableWeight+s.Split.CanaryWeight > 0 {
		extra = fmt.Sprintf("  last read: canary %s at %s", pct(s.Split.CanaryPercent()), hms(s.SplitAt))
	}
	barW := g.width - len([]rune(left)) - len([]rune(right)) - 4 - len([]rune(extra))
	if barW > 60 {
		barW = 60
	}
	if barW < 10 {
		barW, extra = 10, ""
	}
	var body string
	if s.SplitKnown {
		c := int(math.Round(float64(barW) * s.Split.CanaryPercent() / 100))
		// A canary with any traffic gets at least one cell, so 1% is visible.
		if c == 0 && s.Split.CanaryWeight > 0 {
			c = 1
		}
		if c == barW && s.Split.StableWeight > 0 {
			c = barW - 1
		}
		body = st.Stable.Render(strings.Repeat("█", barW-c)) + st.Canary.Render(strings.Repeat("░", c))
	} else {
		body = st.Unknown.Render(strings.Repeat("?", barW))
	}
	return st.Stable.Render(left) + " ▕" + body + "▏ " + st.Canary.Render(right) + st.Dim.Render(extra)
}

// ladderLine marks where the canary sits on the ladder, including between
// steps after a change made outside perch.
func (g *gauge) ladderLine() string {
	s, st := g.snap, g.st
	cur := s.Split.CanaryPercent()
	var parts []string
	placed := !s.SplitKnown
	ladder, label := []float64(s.Ladder), "ladder "
	if d := s.Deployment; d != nil {
		// CodeDeploy's configuration is the ladder that matters here.
		ladder, label = []float64{0}, "config "
		for _, sh := range d.Routing.Shifts() {
			ladder = append(ladder, sh.Percent)
		}
		if d.ECS != nil {
			ladder, label = ecsLadder(d.ECS.Strategy), "strategy "
		}
	}
	for _, step := range ladder {
		if !placed && cur < step-0.05 {
			parts = append(parts, st.Bold.Render("‹"+pct(cur)+"›"))
			placed = true
		}
		label := trimZero(fmt.Sprintf("%.1f", step))
		if !placed && math.Abs(cur-step) < 0.05 {
			label = st.Step.Render("[" + label + "%]")
			placed = true
		}
		parts = append(parts, label)
	}
	if !placed {
		parts = append(parts, st.Bold.Render("‹"+pct(cur)+"›"))
	}
	out := st.Dim.Render(label) + strings.Join(parts, " ")
	if share, ok := s.ObservedCanaryShare(s.Now.Add(-observedWindow)); ok {
		out += st.Sep + "observed canary " + st.Canary.Render(pct(round1(share))) +
			st.Dim.Render(" of "+requestWord(s.Target.Kind)+" (5m)")
		if more := " vs " + pct(cur) + " configured"; s.SplitKnown && visibleWidth(out+more) <= g.width {
			out += st.Dim.Render(more)
		}
	} else {
		out += st.Dim.Render(" · observed canary share: no " + requestWord(s.Target.Kind) + " in 5m")
	}
	return out
}

func (g *gauge) healthLine() string {
	s, st := g.snap, g.st
	out := g.health("■ stable", s.Health[model.Stable], false) + st.Sep +
		g.health("▲ canary", s.Health[model.Canary], true)
	if sec := s.Target.StickinessSeconds; sec > 0 {
		d := age(time.Duration(sec) * time.Second)
		long := st.Sep + st.Warn.Render("⚠ stickiness "+d+": pinned clients stay on their side until their cookie expires")
		if visibleWidth(out+long) > g.width {
			long = st.Sep + st.Warn.Render("⚠ sticky "+d+": clients stay pinned")
		}
		if visibleWidth(out+long) > g.width {
			long = st.Sep + st.Warn.Render("⚠ sticky "+d)
		}
		out += long
	}
	if d := s.Deployment; d != nil && len(d.Hooks) > 0 {
		out += st.Sep + hooksSummary(st, d.Hooks)
	}
	return out
}

// hooksSummary counts the lifecycle hooks done and names the one running
// (or the one that failed).
func hooksSummary(st *Styles, hooks []model.LifecycleHook) string {
	done := 0
	var now string
	for _, h := range hooks {
		switch h.Status {
		case "Succeeded":
			done++
		case "InProgress":
			now = st.Warn.Render(" ⟳ " + h.Name)
		case "Failed":
			if now == "" {
				now = st.Bad.Render(" ✗ " + h.Name)
			}
		}
	}
	return fmt.Sprintf("hooks %d/%d", done, len(hooks)) + now
}

// deploymentBanner says how a finished CodeDeploy deployment ended, who
// rolled it back and why, or that it waits for the operator.
func (g *gauge) deploymentBanner(d *model.DeploymentStatus) string {
	if d.ECS != nil {
		return g.ecsBanner(d)
	}
	st := g.st
	rb := ""
	if d.RolledBack() {
		rb = " · rollback deployment " + d.Rollback.DeploymentID
	}
	at := ""
	if !d.CompletedAt.IsZero() {
		at = " at " + hms(d.CompletedAt)
	}
	switch {
	case d.Error != nil && d.Error.Code == "ALARM_ACTIVE" && d.RolledBack():
		why := strings.Trim(strings.TrimPrefix(d.EndedBy(), "rolled back "), "()")
		return st.Banner.Render("ROLLED BACK by CodeDeploy" + at + ": " + why + " fired" + rb)
	case d.Status == "Succeeded":
		return st.OK.Render("✓ deployment succeeded" + at + ": all traffic on " + g.snap.Target.CanaryName)
	case d.Terminal() && d.RolledBack():
		return st.Banner.Render(strings.ToUpper(d.Status) + at + ", " + d.EndedBy() + rb)
	case d.Terminal():
		return st.Warn.Render("⚠ " + d.Status + at + " (" + d.EndedBy() + ", no rollback): traffic stays at canary " + pct(g.snap.Split.CanaryPercent()))
	case d.Waiting == model.WaitReady:
		return st.Warn.Render("⏸ the replacement is ready: CodeDeploy waits for ContinueDeployment (c) before shifting")
	}
	return ""
}

func (g *gauge) health(name string, h model.Health, canary bool) string {
	st := g.st
	label := st.side(canary).Render(name)
	if g.snap.Target.Kind == model.KindLambda {
		// A Lambda version is one thing that is Active or not.
		// Split IDs stay raw in the snapshot for compare-and-set.
		version := termtext.Clean(g.snap.Split.StableID, 24)
		if canary {
			version = termtext.Clean(g.snap.Split.CanaryID, 24)
		}
		switch {
		case h.Total() == 0:
			return label + " " + st.Warn.Render("? version "+version+" state unknown")
		case h.Healthy > 0:
			return label + " " + st.OK.Render("● version "+version+" Active")
		default:
			return label + " " + st.Bad.Render("✗ version "+version+" not Active")
		}
	}
	if g.snap.HealthErr != "" {
		return label + " " + st.Warn.Render("? health unknown")
	}
	if h.Total() == 0 {
		return label + " " + st.Warn.Render("? no targets registered")
	}
	txt := fmt.Sprintf("%d/%d healthy", h.Healthy, h.Total())
	switch {
	case h.Healthy == 0:
		return label + " " + st.Bad.Render("✗ "+txt)
	case h.Healthy < h.Total():
		return label + " " + st.Warn.Render("! "+txt)
	default:
		return label + " " + st.OK.Render("● "+txt)
	}
}

func requestWord(k model.TargetKind) string {
	if k == model.KindLambda {
		return "invocations"
	}
	return "requests"
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
