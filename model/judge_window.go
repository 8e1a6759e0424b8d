package model

import (
	"fmt"
	"math"
	"time"
)

// judging is what every metric of one verdict shares.
type judging struct {
	cfg    JudgeConfig
	now    time.Time
	tr     rate
	budget budget
	scope  scope
}

// windowStart is where the recent window begins: the current step, or the
// last cfg.RecentWindow, whichever is longer. PASS must rest on that
// window alone.
func (j *judging) windowStart() time.Time {
	ws := j.now.Add(-j.cfg.RecentWindow)
	if s := j.scope.stepStart; !s.IsZero() && s.Before(ws) {
		ws = s
	}
	return ws
}

// passCheck is the power behind PASS for one metric.
type passCheck struct {
	ok bool
	// test is the one whose power PASS rests on (or would); from the first
	// period of data it weighs.
	test TestKind
	from time.Time
	// extra is how many more units of data (canary requests, or periods)
	// the test needs; 0 when ok.
	extra float64
	// grows: more data lengthens the window (a step held longer). A
	// window of the last N minutes slides instead: it can hold no more
	// than N minutes bring.
	grows bool
}

// passCheck asks whether a regression of the configured size that began
// at the window's start ws would have taken one of the tests over its bar
// by now with the configured power, on the window's data alone:
//   - the from-start test, when the data begins inside the window;
//   - the step test, on the step's data;
//   - the change detector, whose start-at-ws term alone would have to
//     get there (its sum over every start only adds to that).
//
// perMean and perSecond are what one more unit of data adds per mixture
// component (nil: it cannot grow, e.g. no canary traffic now).
func (tr *trail) passCheck(b budget, sc scope, ws time.Time, z float64, perMean, perSecond []float64) passCheck {
	type candidate struct {
		test  TestKind
		from  int
		grows bool
	}
	var cands []candidate
	if sc.fromStart && len(tr.times) > 0 && !tr.times[0].Before(ws) {
		// It grows only until the window, moving on, leaves its start
		// behind: like a window of the last N minutes, it holds what N
		// minutes bring.
		cands = append(cands, candidate{TestFromStart, 0, false})
	}
	if !sc.stepStart.IsZero() {
		cands = append(cands, candidate{TestStep, tr.index(sc.stepStart), true})
	}
	stepIsWindow := !sc.stepStart.IsZero() && !sc.stepStart.After(ws)
	cands = append(cands, candidate{TestDetector, tr.index(ws), stepIsWindow})

	best := passCheck{extra: math.Inf(1), test: TestDetector, from: ws}
	for _, c := range cands {
		extra := tr.power(c.from, c.test, b.logBar(c.test), z, perMean, perSecond)
		from := ws
		switch c.test {
		case TestFromStart:
			from = tr.times[0]
		case TestStep:
			from = sc.stepStart
		}
		if extra == 0 {
			return passCheck{ok: true, test: c.test, from: from, grows: c.grows}
		}
		// A window that grows beats one that slides; then fewer needed.
		if (c.grows && !best.grows) || (c.grows == best.grows && extra < best.extra) {
			best = passCheck{test: c.test, from: from, extra: extra, grows: c.grows}
		}
	}
	return best
}

// recentETA is how long the remaining canary requests take: at the recent
// rate when the window grows; for a sliding window, only if they fit in it
// (it holds at most RecentWindow of traffic), else never at this traffic.
func (j *judging) recentETA(pc passCheck, have, extra float64) time.Duration {
	if pc.grows {
		return j.tr.eta(extra)
	}
	if capacity := j.tr.perMinute * j.cfg.RecentWindow.Minutes(); have+extra > capacity {
		return -1
	}
	return j.tr.eta(extra)
}

// testPhrase names a test and where its evidence starts, for a summary.
func testPhrase(test TestKind, from time.Time) string {
	at := from.UTC().Format("15:04")
	switch test {
	case TestFromStart:
		return "from the start at " + at
	case TestStep:
		return "since the step began at " + at
	}
	return fmt.Sprintf("%s from %s", test, at)
}

// windowPhrase says which window a PASS rests on, for a summary.
func windowPhrase(pc passCheck, now time.Time) string {
	span := formatETA(now.Sub(pc.from))
	switch pc.test {
	case TestFromStart:
		return fmt.Sprintf("since the start (%s)", span)
	case TestStep:
		return fmt.Sprintf("since the step began (%s)", span)
	}
	return fmt.Sprintf("in the last %s", span)
}

// etaNote says how long the remaining requests take, for a summary.
func etaNote(eta time.Duration, tr rate, grows bool) string {
	switch {
	case eta < 0 && !(tr.perMinute > 0):
		return " (no canary traffic now)"
	case eta < 0 && !grows:
		return " (more than the window holds at the current traffic: hold a step longer)"
	case eta < 0:
		return " (never at the current traffic)"
	case tr.perMinute >= 10:
		return fmt.Sprintf(" (~%s at %s/min)", formatETA(eta), formatCount(tr.perMinute))
	case tr.perMinute >= 0.1:
		return fmt.Sprintf(" (~%s at %.1f/min)", formatETA(eta), tr.perMinute)
	}
	return fmt.Sprintf(" (~%s at %.1f/h)", formatETA(eta), 60*tr.perMinute)
}
