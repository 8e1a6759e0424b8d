package evaluate

import (
	"sync"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

// Epoch is where every run's simulated clock starts: fixed, so a seed
// gives the same data on every machine.
var Epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// Outcome is one detector's result in one run.
type Outcome struct {
	// Detected: it fired at or after the regression started.
	Detected bool `json:"detected"`
	// Seconds from the regression's start to the poll that saw it fire.
	Seconds float64 `json:"seconds,omitempty"`
	// FalseRollback: it fired on a healthy canary, or before the
	// regression started. The canary would have been rolled back, so the
	// run ends there for this detector.
	FalseRollback bool `json:"false_rollback"`
	// At is when it fired, from attach (simulated).
	At time.Duration `json:"at,omitempty"`
	// Why is the judge's summary line or the alarm that fired.
	Why string `json:"why,omitempty"`
	// Signals are the metrics the judge failed on.
	Signals []model.Signal `json:"signals,omitempty"`
}

func (o Outcome) fired() bool { return o.Detected || o.FalseRollback }

// Run is one seed's result.
type Run struct {
	Seed     int64   `json:"seed"`
	Judge    Outcome `json:"judge"`
	Baseline Outcome `json:"alarm_baseline"`
	// Oracle is the CUSUM that knows the true rates (see oracle.go); it
	// is not run on a scenario without a regression.
	Oracle *Outcome `json:"oracle,omitempty"`
	// Signals is, per metric the judge weighed, when that metric's own
	// verdict first said FAIL (polling goes on after the overall FAIL,
	// for up to signalChase, to time the others).
	Signals map[model.Signal]Outcome `json:"signals,omitempty"`
	// PassAfterOnset: the judge said PASS at a poll after the regression
	// began and before it detected it.
	PassAfterOnset bool `json:"pass_after_onset"`
	// Verdict is the judge's overall verdict at its last look (at the end
	// of the run, or when it fired), and Summary its one line.
	Verdict model.VerdictKind `json:"verdict"`
	Summary string            `json:"summary"`
	// PassedAt is the first poll at which the judge said PASS, from
	// attach; negative when it never did.
	PassedAt time.Duration `json:"passed_at"`
	// MoreRequests is how many more canary requests the error test asked
	// for at the judge's last look (0 unless INSUFFICIENT; +Inf when the
	// traffic seen cannot get there).
	MoreRequests float64 `json:"more_requests"`
	// CanaryRequests and Requests count what perch read in the run,
	// history included.
	CanaryRequests float64 `json:"canary_requests"`
	Requests       float64 `json:"requests"`
	// Watched is how long the run lasted (simulated).
	Watched time.Duration `json:"watched"`
	// Fetches is how many GetMetricData calls perch made.
	Fetches int `json:"fetches"`
}

// runConfig is what every run of one evaluation shares.
type runConfig struct {
	scenario *sim.Scenario
	timeline Timeline
	poll     time.Duration
	horizon  time.Duration
	judge    model.JudgeConfig
	alarms   []Alarm
	// fullPolling keeps the engine polling after the judge has fired,
	// instead of reading the rest of the data in large steps for the
	// baseline; tests use it to check both ways agree.
	fullPolling bool
	// oracles caches the oracle by slow-request threshold: its
	// calibration is the same for every run that learnt the same one.
	oracles *oracleCache
}

// signalChase is how long the engine keeps polling after the judge fired,
// to time the metrics that had not failed yet.
const signalChase = time.Hour

type oracleCache struct {
	mu sync.Mutex
	m  map[float64]*oracle
}

func (c *oracleCache) get(reg *Regression, thresholdMs float64) *oracle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[float64]*oracle{}
	}
	o, ok := c.m[thresholdMs]
	if !ok {
		o = newOracle(reg, thresholdMs)
		c.m[thresholdMs] = o
	}
	return o
}

// timeSignals records when each metric's own verdict first said FAIL.
func (r *Run) timeSignals(v *model.Verdict, now, regression time.Time, fire func(*Outcome, time.Time, string)) {
	for _, m := range v.Metrics {
		if m.Kind != model.VerdictFail {
			continue
		}
		if r.Signals == nil {
			r.Signals = map[model.Signal]Outcome{}
		}
		if _, ok := r.Signals[m.Signal]; ok {
			continue
		}
		var o Outcome
		fire(&o, now, m.Summary)
		r.Signals[m.Signal] = o
	}
}

// regresses reports whether the judge's metric s should see this
// regression: errors for an error rate, the slow counts or the p99 for
// latency.
func (reg *Regression) regresses(s model.Signal) bool {
	if reg == nil {
		return false
	}
	switch s {
	case model.Errors5xx:
		return reg.Errors()
	case model.SlowRequests, model.LatencyP99, model.LatencyP50:
		return reg.Latency()
	}
	return false
}

func newestValue(pts []model.Point) float64 {
	if len(pts) == 0 {
		return 0
	}
	return pts[len(pts)-1].V
}
