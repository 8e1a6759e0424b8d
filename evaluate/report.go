package evaluate

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perch-dev/perch/model"
)

// WriteText prints the report as a readable table; perRun adds one row
// per seed.
func (r *Report) WriteText(w io.Writer, perRun bool) error {
	ew := &errWriter{w: w}
	n := len(r.Runs)
	ew.printf("perch evaluate · %s · %s\n", r.Scenario, r.Timeline)
	until := "each"
	if r.Timeline.Regression != nil {
		until = "each up to"
	}
	ew.printf("%d runs (seeds %s), poll %s, %s %s; took %s\n\n", n, r.seedRange(), short(r.Poll), until,
		short(r.Duration), r.Elapsed.Round(100*time.Millisecond))

	tw := tabwriter.NewWriter(ew, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "\tfalse rollbacks\tdetected\tdetection p10 / median / p90\n")
	judge, alarms, oracle := r.outcomes()
	rows := []struct {
		name string
		os   []Outcome
	}{{"judge (perch)", judge}, {"alarms (fixed threshold)", alarms}}
	if oracle != nil {
		rows = append(rows, struct {
			name string
			os   []Outcome
		}{"oracle (knows the rates)", oracle})
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.name, falseCell(row.os), r.detectedCell(row.os), r.quantilesCell(row.os))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch s := r.Summary; {
	case r.Timeline.Regression == nil:
		ew.printf("\nno regression in this scenario: every detection is a false rollback\n")
	case s.DetectionRatio != nil:
		ew.printf("\ndetection ratio %.2f: the alarms' median over the judge's", *s.DetectionRatio)
		switch {
		case *s.DetectionRatio > 1:
			ew.printf(" (the judge is %.1fx sooner)\n", *s.DetectionRatio)
		case *s.DetectionRatio < 1:
			ew.printf(" (the judge is slower)\n")
		default:
			ew.printf(" (the same)\n")
		}
	default:
		ew.printf("\ndetection ratio: none (a median is missing: fewer than half of the runs detected within %s)\n", short(r.Duration))
	}
	if s := r.Summary; s.Oracle != nil {
		if s.OracleRatio != nil {
			ew.printf("oracle ratio %.2f: the judge's median over the oracle's (1 is the physical limit)\n", *s.OracleRatio)
		} else {
			ew.printf("oracle ratio: none (a median is missing)\n")
		}
		ew.printf("PASS after the regression began and before the judge detected it: %d runs\n", s.Judge.PassAfterOnsetRuns)
	}
	if line := r.signalsLine(); line != "" {
		ew.printf("%s\n", line)
	}
	ew.printf("%s\n", r.verdictLine())
	if line := r.neededLine(); line != "" {
		ew.printf("%s\n", line)
	}
	names := make([]string, len(r.Alarms))
	for i, a := range r.Alarms {
		names[i] = fmt.Sprintf("%q", a.Name)
	}
	ew.printf("alarms: %s, on the canary target group's HTTPCode_Target_5XX_Count, missing data not breaching\n", strings.Join(names, "; "))
	if perRun {
		ew.printf("\n")
		r.writeRuns(ew)
	}
	return ew.err
}

func (r *Report) seedRange() string {
	if len(r.Runs) == 0 {
		return "none"
	}
	if len(r.Runs) == 1 {
		return fmt.Sprint(r.Runs[0].Seed)
	}
	return fmt.Sprintf("%d-%d", r.Runs[0].Seed, r.Runs[len(r.Runs)-1].Seed)
}

func (r *Report) outcomes() (judge, alarms, oracle []Outcome) {
	for _, run := range r.Runs {
		judge = append(judge, run.Judge)
		alarms = append(alarms, run.Baseline)
		if run.Oracle != nil {
			oracle = append(oracle, *run.Oracle)
		}
	}
	return judge, alarms, oracle
}

// signalsLine gives each metric's own median time to FAIL.
func (r *Report) signalsLine() string {
	if r.Timeline.Regression == nil || len(r.Summary.Judge.SignalMedians) == 0 {
		return ""
	}
	names := make([]string, 0, len(r.Summary.Judge.SignalMedians))
	for sgl := range r.Summary.Judge.SignalMedians {
		names = append(names, string(sgl))
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		v := r.Summary.Judge.SignalMedians[model.Signal(n)]
		parts[i] = n + " not within " + short(r.Duration)
		if v != nil {
			parts[i] = n + " " + seconds(*v)
		}
	}
	return "each metric's own median time to FAIL: " + strings.Join(parts, ", ")
}

func falseCell(os []Outcome) string {
	n := 0
	for _, o := range os {
		if o.FalseRollback {
			n++
		}
	}
	return fmt.Sprintf("%d of %d (%s)", n, len(os), pct(n, len(os)))
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func (r *Report) detectedCell(os []Outcome) string {
	if r.Timeline.Regression == nil {
		return "-"
	}
	n := 0
	for _, o := range os {
		if o.Detected {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(os))
}

func (r *Report) quantilesCell(os []Outcome) string {
	if r.Timeline.Regression == nil {
		return "-"
	}
	parts := make([]string, 3)
	for i, q := range []float64{0.1, 0.5, 0.9} {
		parts[i] = "not within " + short(r.Duration)
		if v := QuantileSeconds(os, q); v != nil {
			parts[i] = seconds(*v)
		}
	}
	return strings.Join(parts, " / ")
}

// seconds prints simulated seconds as a duration: 90s, 34m30s, 3h9m.
func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	if d >= time.Hour {
		d = d.Round(time.Minute)
	}
	return short(d)
}

func (r *Report) verdictLine() string {
	counts := map[model.VerdictKind]int{}
	passedFirst := 0
	for _, run := range r.Runs {
		counts[run.Verdict]++
		if run.PassedAt >= 0 && (run.Judge.Detected || run.Judge.FalseRollback) && run.PassedAt < run.Judge.At {
			passedFirst++
		}
	}
	s := fmt.Sprintf("judge's verdict at its last look: FAIL %d, PASS %d, INSUFFICIENT %d",
		counts[model.VerdictFail], counts[model.VerdictPass], counts[model.VerdictInsufficient])
	ever := 0
	for _, run := range r.Runs {
		if run.PassedAt >= 0 {
			ever++
		}
	}
	switch {
	case ever == 0:
		s += "; never PASS at any poll"
	case r.Timeline.Regression != nil:
		s += fmt.Sprintf("; PASS at some poll in %d runs (%d of them before it detected the regression)", ever, passedFirst)
	default:
		s += fmt.Sprintf("; PASS at some poll in %d runs", ever)
	}
	return s
}

// neededLine reports the requests-needed figures of runs that ended
// INSUFFICIENT.
func (r *Report) neededLine() string {
	var more []float64
	inf := 0
	for _, run := range r.Runs {
		if run.Verdict != model.VerdictInsufficient {
			continue
		}
		if math.IsInf(run.MoreRequests, 1) {
			inf++
			continue
		}
		more = append(more, run.MoreRequests)
	}
	if len(more)+inf == 0 {
		return ""
	}
	s := "INSUFFICIENT runs need"
	if len(more) > 0 {
		sort.Float64s(more)
		s += fmt.Sprintf(" a median %s more canary requests (%s to %s) to detect the configured regression",
			count(more[len(more)/2]), count(more[0]), count(more[len(more)-1]))
	}
	if inf > 0 {
		if len(more) > 0 {
			s += ";"
		}
		s += fmt.Sprintf(" %d cannot get there at the traffic seen", inf)
	}
	return s
}

func count(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "∞"
	case x >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", math.Ceil(x))
}

func (r *Report) writeRuns(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "seed\tjudge\talarms\toracle\tlast verdict\tcanary requests\trequests\twatched\n")
	for _, run := range r.Runs {
		oracle := "-"
		if run.Oracle != nil {
			oracle = outcomeCell(*run.Oracle)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\n", run.Seed, outcomeCell(run.Judge), outcomeCell(run.Baseline),
			oracle, verdictCell(run), run.CanaryRequests, run.Requests, short(run.Watched))
	}
	tw.Flush()
}

func outcomeCell(o Outcome) string {
	switch {
	case o.FalseRollback && len(o.Signals) > 0:
		return fmt.Sprintf("FALSE at %s (%s)", short(o.At), signalList(o.Signals))
	case o.FalseRollback:
		return "FALSE at " + short(o.At)
	case o.Detected:
		return seconds(o.Seconds)
	}
	return "-"
}

func signalList(ss []model.Signal) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}

func verdictCell(run Run) string {
	s := string(run.Verdict)
	if run.Verdict == model.VerdictInsufficient && run.MoreRequests > 0 {
		s += fmt.Sprintf(" (+%s)", count(run.MoreRequests))
	}
	if run.PassedAt >= 0 {
		if run.Verdict == model.VerdictPass {
			return fmt.Sprintf("PASS from %s", short(run.PassedAt))
		}
		s += fmt.Sprintf(", PASS at %s", short(run.PassedAt))
	}
	return s
}

// errWriter keeps the first write error so the printing code can stay flat.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
