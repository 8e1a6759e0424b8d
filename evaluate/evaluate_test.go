package evaluate

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

// The properties, on fewer runs (testRuns) than the 200 of the
// report (see docs/evaluate.md for the full figures). Seeds are fixed, so
// each test gives the same numbers every time; the assertions are the
// issue's targets, not the numbers seen.

func evaluateScenario(t *testing.T, name string, opts Options) *Report {
	t.Helper()
	sc, err := sim.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	opts.Scenario = sc
	if opts.Runs == 0 {
		opts.Runs = testRuns
	}
	rep, err := Evaluate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep.Summary)
	t.Logf("%s: %d runs in %s: %s", name, len(rep.Runs), rep.Elapsed.Round(time.Millisecond), b)
	return rep
}

func TestHealthyCanaryIsRarelyRolledBack(t *testing.T) {
	rep := evaluateScenario(t, "eval-healthy", Options{})
	s := rep.Summary
	if s.Runs != testRuns || rep.Timeline.Regression != nil {
		t.Fatalf("runs %d, regression %v", s.Runs, rep.Timeline.Regression)
	}
	// Not vacuous: every run watched the whole hour with the judge
	// reading real traffic at every poll.
	for _, r := range rep.Runs {
		if r.Judge.FalseRollback {
			continue
		}
		if r.Watched != time.Hour || r.Verdict == "" || r.CanaryRequests < 5500 || r.Fetches < 60 {
			t.Fatalf("seed %d: watched %s, verdict %q, %v canary requests, %d fetches", r.Seed, r.Watched, r.Verdict, r.CanaryRequests, r.Fetches)
		}
	}
	if s.Judge.FalseRollbackRate > 0.01 {
		t.Errorf("judge rolled back %.1f%% of healthy canaries; the issue allows 1%%", 100*s.Judge.FalseRollbackRate)
	}
	if s.Judge.MedianDetectionSeconds != nil || s.AlarmBaseline.MedianDetectionSeconds != nil || s.DetectionRatio != nil {
		t.Errorf("detection figures on a healthy canary: %+v", s)
	}
}

func TestDoubledErrorRateIsCaughtAtLeastThreeTimesSooner(t *testing.T) {
	rep := evaluateScenario(t, "eval-2x", Options{})
	s := rep.Summary
	if s.Judge.MedianDetectionSeconds == nil || s.AlarmBaseline.MedianDetectionSeconds == nil || s.DetectionRatio == nil {
		t.Fatalf("missing medians: %+v", s)
	}
	if *s.DetectionRatio < 3 {
		t.Errorf("judge median %.0fs vs alarms %.0fs: %.1fx sooner, want at least 3x",
			*s.Judge.MedianDetectionSeconds, *s.AlarmBaseline.MedianDetectionSeconds, *s.DetectionRatio)
	}
	if s.Judge.FalseRollbackRate != 0 || s.AlarmBaseline.FalseRollbackRate != 0 {
		t.Errorf("false rollbacks before a regression that starts with the canary: %+v", s)
	}
	for _, r := range rep.Runs {
		if !r.Judge.Detected {
			t.Errorf("seed %d: the judge never caught a 2x error rate in %s", r.Seed, r.Watched)
		}
		if r.Judge.Detected && !reflect.DeepEqual(r.Judge.Signals, []model.Signal{model.Errors5xx}) {
			t.Errorf("seed %d: judge failed on %v: %s", r.Seed, r.Judge.Signals, r.Judge.Why)
		}
	}
}

// At 10x the alarm's first 60 s period usually holds five errors already,
// and no one can act before that period is published (90 s after the
// regression starts). What is asserted is what holds: the judge is no
// later than the old judge's 150 s, at most one period behind the alarms,
// as fast as the oracle, and nothing fires before the data exists.
func TestTenfoldErrorRateIsCaughtWithinAPeriodOfTheAlarms(t *testing.T) {
	rep := evaluateScenario(t, "eval-10x", Options{})
	s := rep.Summary
	if s.Judge.MedianDetectionSeconds == nil || s.AlarmBaseline.MedianDetectionSeconds == nil {
		t.Fatalf("missing medians: %+v", s)
	}
	j, b := *s.Judge.MedianDetectionSeconds, *s.AlarmBaseline.MedianDetectionSeconds
	if j > b+60 || j > 150 {
		t.Errorf("judge median %.0fs: more than one period behind the alarms' %.0fs, or later than 150 s", j, b)
	}
	checkOracleRatio(t, s)
	const floor = 90 // the first period ends at 60 s and is published 30 s later
	for _, r := range rep.Runs {
		if !r.Judge.Detected || !r.Baseline.Detected {
			t.Fatalf("seed %d: judge %+v, alarms %+v", r.Seed, r.Judge, r.Baseline)
		}
		if r.Judge.Seconds < floor || r.Baseline.Seconds < floor {
			t.Fatalf("seed %d: detected before the first period was published: judge %vs, alarms %vs", r.Seed, r.Judge.Seconds, r.Baseline.Seconds)
		}
		if r.Judge.Seconds > 5*60 {
			t.Errorf("seed %d: judge took %vs on a 10x error rate", r.Seed, r.Judge.Seconds)
		}
	}
}

func TestLowTrafficIsInsufficientWithARequestsNeededFigure(t *testing.T) {
	rep := evaluateScenario(t, "eval-low-traffic", Options{})
	if got := rep.Summary.Judge.InsufficientRuns; got != testRuns {
		t.Errorf("%d of %d runs ended INSUFFICIENT", got, testRuns)
	}
	for _, r := range rep.Runs {
		if r.PassedAt >= 0 {
			t.Fatalf("seed %d: PASS at %s on about 100 requests a day: %s", r.Seed, r.PassedAt, r.Summary)
		}
		if r.Verdict != model.VerdictInsufficient || !(r.MoreRequests > 0) || math.IsInf(r.MoreRequests, 1) {
			t.Fatalf("seed %d: %s, %v more requests: %s", r.Seed, r.Verdict, r.MoreRequests, r.Summary)
		}
		if r.CanaryRequests == 0 || r.CanaryRequests > 100 {
			t.Fatalf("seed %d: %v canary requests in 7 hours of a 100-a-day service", r.Seed, r.CanaryRequests)
		}
	}
}

// The fast path stops polling perch once the judge has fired and reads
// the rest in hour-long steps for the alarms. It must time every alarm
// exactly as polling to the end does.
func TestFastTailMatchesPollingToTheEnd(t *testing.T) {
	opts := Options{Runs: 8, Duration: 4 * time.Hour}
	fast := evaluateScenario(t, "eval-2x", opts)
	opts.fullPolling = true
	full := evaluateScenario(t, "eval-2x", opts)
	detected := 0
	for i := range fast.Runs {
		f, p := fast.Runs[i], full.Runs[i]
		if !reflect.DeepEqual(f.Judge, p.Judge) || !reflect.DeepEqual(f.Baseline, p.Baseline) || !reflect.DeepEqual(f.Oracle, p.Oracle) {
			t.Errorf("seed %d: fast judge %+v alarms %+v oracle %+v; polled judge %+v alarms %+v oracle %+v",
				f.Seed, f.Judge, f.Baseline, f.Oracle, p.Judge, p.Baseline, p.Oracle)
		}
		if f.Baseline.Detected && f.Baseline.At > f.Judge.At {
			detected++ // an alarm found by the fast tail itself
		}
	}
	if detected == 0 {
		t.Fatal("no alarm fired after the judge in these seeds: the comparison checks nothing")
	}
}

func TestSummaryJSONShape(t *testing.T) {
	sec := func(s float64) Outcome { return Outcome{Detected: true, Seconds: s} }
	runs := []Run{
		{Judge: sec(60), Baseline: sec(600), Verdict: model.VerdictFail},
		{Judge: sec(120), Baseline: Outcome{}, Verdict: model.VerdictFail},
		{Judge: sec(180), Baseline: sec(300), Verdict: model.VerdictInsufficient},
		{Judge: Outcome{FalseRollback: true}, Baseline: sec(900), Verdict: model.VerdictFail},
	}
	b, err := json.Marshal(Summarize(runs))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"runs":4,"judge":{"false_rollback_rate":0.25,"median_detection_seconds":150,"insufficient_runs":1,` +
		`"pass_after_onset_runs":0,"median_detection_seconds_by_signal":{}},` +
		`"alarm_baseline":{"false_rollback_rate":0,"median_detection_seconds":750},"detection_ratio":5,"oracle_ratio":null}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// Fewer than half detected: no median, no ratio, and null in JSON.
	b, _ = json.Marshal(Summarize([]Run{{Judge: sec(60)}, {}, {}}))
	const none = `{"runs":3,"judge":{"false_rollback_rate":0,"median_detection_seconds":null,"insufficient_runs":0,` +
		`"pass_after_onset_runs":0,"median_detection_seconds_by_signal":{}},` +
		`"alarm_baseline":{"false_rollback_rate":0,"median_detection_seconds":null},"detection_ratio":null,"oracle_ratio":null}`
	if string(b) != none {
		t.Fatalf("got  %s\nwant %s", b, none)
	}
	// With a regression: the oracle, its ratio, the runs that said PASS
	// after the onset, and each metric's own median.
	withOracle := func(r Run, o Outcome, errs *Outcome) Run {
		r.Oracle = &o
		if errs != nil {
			r.Signals = map[model.Signal]Outcome{model.Errors5xx: *errs}
		}
		return r
	}
	s120, s60 := sec(120), sec(60)
	b, _ = json.Marshal(Summarize([]Run{
		withOracle(Run{Judge: sec(120), PassAfterOnset: true}, sec(60), &s120),
		withOracle(Run{Judge: sec(240)}, sec(120), &s60),
	}))
	const regression = `{"runs":2,"judge":{"false_rollback_rate":0,"median_detection_seconds":180,"insufficient_runs":0,` +
		`"pass_after_onset_runs":1,"median_detection_seconds_by_signal":{"errors_5xx":90}},` +
		`"alarm_baseline":{"false_rollback_rate":0,"median_detection_seconds":null},` +
		`"oracle":{"false_rollback_rate":0,"median_detection_seconds":90},"detection_ratio":null,"oracle_ratio":2}`
	if string(b) != regression {
		t.Fatalf("got  %s\nwant %s", b, regression)
	}
}

func TestQuantiles(t *testing.T) {
	os := []Outcome{{Detected: true, Seconds: 30}, {Detected: true, Seconds: 10}, {}, {Detected: true, Seconds: 20}, {FalseRollback: true}}
	cases := []struct {
		q    float64
		want float64 // NaN: nil
	}{{0, 10}, {0.25, 20}, {0.5, 30}, {0.75, math.NaN()}, {1, math.NaN()}}
	for _, c := range cases {
		got := QuantileSeconds(os, c.q)
		if (got == nil) != math.IsNaN(c.want) || got != nil && *got != c.want {
			t.Errorf("q %v: got %v, want %v", c.q, got, c.want)
		}
	}
	if QuantileSeconds(nil, 0.5) != nil {
		t.Error("median of no runs")
	}
}

func TestBaselineAlarms(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pts := func(vals ...float64) []model.Point {
		out := make([]model.Point, len(vals))
		for i, v := range vals {
			out[i] = model.Point{T: t0.Add(time.Duration(i) * time.Minute), V: v}
		}
		return out
	}
	gap := func(p []model.Point, i int) []model.Point { return append(p[:i:i], p[i+1:]...) }
	two := []Alarm{{Name: "two", Periods: 2, Threshold: 10}}
	cases := []struct {
		name   string
		alarms []Alarm
		seen   [][]model.Point // successive reads
		fires  bool
		period int
	}{
		{"quiet", SeedAlarms, [][]model.Point{pts(0), pts(0, 4), pts(0, 4, 4)}, false, 0},
		{"five in one period", SeedAlarms, [][]model.Point{pts(0), pts(0, 2), pts(0, 2, 5)}, true, 2},
		{"two periods in one read", SeedAlarms, [][]model.Point{pts(1), pts(1, 4, 4, 3)}, false, 0},
		{"the second of two in one read", SeedAlarms, [][]model.Point{pts(1), pts(1, 4, 6, 0)}, true, 2},
		{"history is not judged", SeedAlarms, [][]model.Point{pts(9, 0), pts(9, 0, 1)}, false, 0},
		{"the newest period at attach is", SeedAlarms, [][]model.Point{pts(0, 9)}, true, 1},
		{"ten over two periods", two, [][]model.Point{pts(0), pts(0, 4, 6)}, true, 2},
		{"nine over two periods", two, [][]model.Point{pts(0), pts(0, 9, 0, 1)}, false, 0},
		// Periods 1 and 3 are not consecutive: the missing period 2 is
		// a zero between them.
		{"a gap counts as zero", two, [][]model.Point{pts(0), pts(0, 6), gap(pts(0, 6, 0, 6), 2)}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBaseline(c.alarms)
			var got breach
			fired := false
			for _, s := range c.seen {
				if br, ok := b.observe(s); ok && !fired {
					got, fired = br, true
				}
			}
			if fired != c.fires || fired && !got.period.Equal(t0.Add(time.Duration(c.period)*time.Minute)) {
				t.Fatalf("fired %v at %+v", fired, got)
			}
		})
	}
}

func TestTimelineOf(t *testing.T) {
	cases := []struct {
		name       string
		start      time.Duration
		regression time.Duration // -1: none
		what       string
	}{
		{"eval-healthy", 0, -1, ""},
		{"eval-2x", 0, 0, "(2x)"},
		{"eval-10x", 0, 0, "(10x)"},
		{"eval-2x-late", -3 * time.Hour, 0, "canary 5xx 1% vs stable 0.5% (2x)"},
		{"eval-low-traffic", -6 * time.Hour, -1, ""},
		{"error-spike", -3 * time.Hour, 8 * time.Minute, "canary 5xx 5% vs stable 0.5% (10x)"},
		{"latency-regression", -time.Hour, 2 * time.Minute, "p99 540 ms"},
		{"drift", -time.Hour, -1, ""},
		{"eval-error-spike", -time.Hour, 2 * time.Minute, "(10x)"},
		{"eval-late-p99", -2 * time.Hour, 2 * time.Minute, "canary p99 540 ms vs stable 180 ms"},
		{"eval-late-5x", -3 * time.Hour, 2 * time.Minute, "(5x)"},
		{"eval-p99-40", 0, 0, "canary p99 252 ms"},
		{"eval-common-mode", 0, -1, ""},
		{"eval-better", 0, -1, ""},
	}
	for _, c := range cases {
		sc, err := sim.LoadScenario(c.name)
		if err != nil {
			t.Fatal(err)
		}
		tl, err := TimelineOf(sc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tl.CanaryStart != c.start || (tl.Regression == nil) != (c.regression < 0) ||
			tl.Regression != nil && (tl.Regression.At != c.regression || !strings.Contains(tl.Regression.What, c.what)) {
			t.Errorf("%s: %+v (regression %+v)", c.name, tl, tl.Regression)
		}
	}
	sc, err := sim.LoadScenario("lambda-healthy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TimelineOf(sc); err == nil || !strings.Contains(err.Error(), "ALB") {
		t.Fatalf("a Lambda-only scenario: %v", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	sc, err := sim.LoadScenario("eval-healthy")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{},
		{Scenario: sc, Runs: -1},
		{Scenario: sc, Seed: -5},
		{Scenario: sc, Poll: time.Millisecond},
		{Scenario: sc, Duration: time.Second},
	} {
		if _, err := Evaluate(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestCancelledEvaluationStops(t *testing.T) {
	sc, err := sim.LoadScenario("eval-healthy")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, Options{Scenario: sc, Runs: 3}); err == nil {
		t.Fatal("a cancelled evaluation returned a report")
	}
}

func TestTextReport(t *testing.T) {
	rep := evaluateScenario(t, "eval-10x", Options{Runs: 3})
	var sb strings.Builder
	if err := rep.WriteText(&sb, true); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{"eval-10x", "judge (perch)", "alarms (fixed threshold)", "detection ratio", "seed", "FAIL"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	_, table, _ := strings.Cut(out, "\nseed ")
	seeds := []string{}
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "1" || f[0] == "2" || f[0] == "3") {
			seeds = append(seeds, f[0])
		}
	}
	sort.Strings(seeds)
	if strings.Join(seeds, ",") != "1,2,3" {
		t.Errorf("per-run rows %v:\n%s", seeds, out)
	}
}
