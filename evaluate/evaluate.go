// Package evaluate measures perch's judge against fixed-threshold
// CloudWatch alarms on the simulator's traffic: many seeded runs of one
// scenario on a virtual clock, perch's engine polling the simulator over
// loopback through the real SDK adapters, the judge's verdict taken from
// every poll, and the alarms evaluated on the same data. It answers how
// often each would have rolled back a healthy canary, and how soon each
// notices a real regression.
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

// Options configure an evaluation. Zero values mean the defaults.
type Options struct {
	Scenario *sim.Scenario // validated, from sim.LoadScenario
	// Runs is how many seeds to play; default 200.
	Runs int
	// Seed is the first seed; run i uses Seed+i. Default 1 (0 would mean
	// "the scenario's own seed" to the simulator).
	Seed int64
	// Poll is perch's poll interval; default 10s, perch's default.
	Poll time.Duration
	// Duration is how long each run watches, from attach. Default 60m for
	// a healthy scenario; with a regression, 12h, each run ending as soon
	// as both the judge and the alarms have fired (a 2x regression can
	// take the alarms hours).
	Duration time.Duration
	// Judge configures the judge as perch's engine would be configured.
	Judge model.JudgeConfig
	// Alarms are the fixed-threshold alarms; default SeedAlarms.
	Alarms []Alarm
	// Workers run seeds in parallel; default GOMAXPROCS.
	Workers int

	fullPolling bool
}

// Defaults.
const (
	DefaultRuns               = 200
	DefaultPoll               = 10 * time.Second
	DefaultHealthyDuration    = 60 * time.Minute
	DefaultRegressionDuration = 12 * time.Hour
)

// Report is an evaluation's result.
type Report struct {
	Scenario string        `json:"scenario"`
	Timeline Timeline      `json:"timeline"`
	Poll     time.Duration `json:"poll"`
	Duration time.Duration `json:"duration"`
	Alarms   []Alarm       `json:"alarms"`
	Runs     []Run         `json:"runs"`
	Summary  Summary       `json:"summary"`
	// Elapsed is the wall-clock time the evaluation took.
	Elapsed time.Duration `json:"elapsed"`
}

// Evaluate plays opts.Runs seeds of the scenario and summarises them.
func Evaluate(ctx context.Context, opts Options) (*Report, error) {
	if opts.Scenario == nil {
		return nil, errors.New("evaluate: no scenario")
	}
	tl, err := TimelineOf(opts.Scenario)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if opts.Runs == 0 {
		opts.Runs = DefaultRuns
	}
	if opts.Runs < 0 {
		return nil, fmt.Errorf("evaluate: %d runs", opts.Runs)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Seed < 0 || opts.Seed > math.MaxInt64-int64(opts.Runs) {
		return nil, fmt.Errorf("evaluate: seed %d: want 1 or more", opts.Seed)
	}
	if opts.Poll == 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Poll < time.Second || opts.Poll > 10*time.Minute {
		return nil, fmt.Errorf("evaluate: poll %s: want 1s..10m", opts.Poll)
	}
	if opts.Duration == 0 {
		opts.Duration = DefaultHealthyDuration
		if tl.Regression != nil {
			opts.Duration = DefaultRegressionDuration
		}
	}
	if opts.Duration < opts.Poll || opts.Duration > 7*24*time.Hour {
		return nil, fmt.Errorf("evaluate: duration %s: want %s..168h", opts.Duration, opts.Poll)
	}
	if opts.Alarms == nil {
		opts.Alarms = SeedAlarms
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	rc := runConfig{
		scenario: opts.Scenario, timeline: tl, poll: opts.Poll, horizon: opts.Duration,
		judge: opts.Judge, alarms: opts.Alarms, fullPolling: opts.fullPolling, oracles: &oracleCache{},
	}

	started := time.Now()
	runs := make([]Run, opts.Runs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < min(opts.Workers, opts.Runs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := runOne(ctx, rc, opts.Seed+int64(i))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				runs[i] = r
				mu.Unlock()
			}
		}()
	}
feed:
	for i := 0; i < opts.Runs; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("evaluate %s: %w", opts.Scenario.Name, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", opts.Scenario.Name, err)
	}
	return &Report{
		Scenario: opts.Scenario.Name,
		Timeline: tl,
		Poll:     opts.Poll,
		Duration: opts.Duration,
		Alarms:   opts.Alarms,
		Runs:     runs,
		Summary:  Summarize(runs),
		Elapsed:  time.Since(started),
	}, nil
}

// Summary is the JSON contract of `perch evaluate --json`. Seconds are
// simulated; null where nothing was detected (or where fewer than half of
// the runs detected the regression, so there is no median).
type Summary struct {
	Runs           int             `json:"runs"`
	Judge          JudgeSummary    `json:"judge"`
	AlarmBaseline  BaselineSummary `json:"alarm_baseline"`
	Oracle         *OracleSummary  `json:"oracle,omitempty"`
	DetectionRatio *float64        `json:"detection_ratio"`
	// OracleRatio is the judge's median over the oracle's (1 would be as
	// fast as physically possible); null when either median is, and on a
	// scenario without a regression.
	OracleRatio *float64 `json:"oracle_ratio"`
}

// JudgeSummary is the judge's side of the summary.
type JudgeSummary struct {
	FalseRollbackRate      float64  `json:"false_rollback_rate"`
	MedianDetectionSeconds *float64 `json:"median_detection_seconds"`
	// InsufficientRuns counts runs whose last verdict was INSUFFICIENT.
	InsufficientRuns int `json:"insufficient_runs"`
	// PassAfterOnsetRuns counts runs in which the judge said PASS at a
	// poll after the regression began and before it detected it.
	PassAfterOnsetRuns int `json:"pass_after_onset_runs"`
	// SignalMedians is, per metric judged, the median time from the
	// regression to that metric's own first FAIL (null: the median run's
	// metric did not fail).
	SignalMedians map[model.Signal]*float64 `json:"median_detection_seconds_by_signal"`
}

// BaselineSummary is the alarms' side of the summary.
type BaselineSummary struct {
	FalseRollbackRate      float64  `json:"false_rollback_rate"`
	MedianDetectionSeconds *float64 `json:"median_detection_seconds"`
}

// OracleSummary is the physical limit's side of the summary.
type OracleSummary struct {
	FalseRollbackRate      float64  `json:"false_rollback_rate"`
	MedianDetectionSeconds *float64 `json:"median_detection_seconds"`
}

// Summarize computes the summary of runs.
func Summarize(runs []Run) Summary {
	s := Summary{Runs: len(runs)}
	judge := make([]Outcome, len(runs))
	alarms := make([]Outcome, len(runs))
	oracle := make([]Outcome, len(runs))
	signals := map[model.Signal][]Outcome{}
	regression := false
	for i, r := range runs {
		judge[i], alarms[i] = r.Judge, r.Baseline
		if r.Oracle != nil {
			oracle[i] = *r.Oracle
			regression = true
		}
		if r.Verdict == model.VerdictInsufficient {
			s.Judge.InsufficientRuns++
		}
		if r.PassAfterOnset {
			s.Judge.PassAfterOnsetRuns++
		}
		for sgl := range r.Signals {
			signals[sgl] = nil
		}
	}
	for sgl := range signals {
		os := make([]Outcome, len(runs))
		for i, r := range runs {
			os[i] = r.Signals[sgl]
		}
		signals[sgl] = os
	}
	s.Judge.FalseRollbackRate = falseRate(judge)
	s.Judge.MedianDetectionSeconds = MedianSeconds(judge)
	s.Judge.SignalMedians = map[model.Signal]*float64{}
	for sgl, os := range signals {
		s.Judge.SignalMedians[sgl] = MedianSeconds(os)
	}
	s.AlarmBaseline.FalseRollbackRate = falseRate(alarms)
	s.AlarmBaseline.MedianDetectionSeconds = MedianSeconds(alarms)
	if j, b := s.Judge.MedianDetectionSeconds, s.AlarmBaseline.MedianDetectionSeconds; j != nil && b != nil && *j > 0 {
		r := *b / *j
		s.DetectionRatio = &r
	}
	if regression {
		s.Oracle = &OracleSummary{FalseRollbackRate: falseRate(oracle), MedianDetectionSeconds: MedianSeconds(oracle)}
		if j, o := s.Judge.MedianDetectionSeconds, s.Oracle.MedianDetectionSeconds; j != nil && o != nil && *o > 0 {
			r := *j / *o
			s.OracleRatio = &r
		}
	}
	return s
}

func falseRate(os []Outcome) float64 {
	if len(os) == 0 {
		return 0
	}
	n := 0
	for _, o := range os {
		if o.FalseRollback {
			n++
		}
	}
	return float64(n) / float64(len(os))
}

// MedianSeconds is the median detection time over all runs, a run that
// did not detect counting as later than any that did (a false rollback
// is not a detection: that canary was rolled back before it regressed).
// Nil when the median run did not detect, or there are no runs.
func MedianSeconds(os []Outcome) *float64 { return QuantileSeconds(os, 0.5) }

// QuantileSeconds is the q-quantile of detection times, undetected runs
// counted as +Inf; nil when it falls on one. For q = 0.5 and an even count
// it is the mean of the two middle runs.
func QuantileSeconds(os []Outcome, q float64) *float64 {
	if len(os) == 0 {
		return nil
	}
	xs := make([]float64, len(os))
	for i, o := range os {
		xs[i] = math.Inf(1)
		if o.Detected {
			xs[i] = o.Seconds
		}
	}
	sort.Float64s(xs)
	pos := q * float64(len(xs)-1)
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	v := xs[lo]
	if hi != lo {
		v = xs[lo] + (xs[hi]-xs[lo])*(pos-float64(lo))
		if math.IsInf(xs[hi], 1) {
			v = math.Inf(1)
		}
	}
	if math.IsInf(v, 1) || math.IsNaN(v) {
		return nil
	}
	return &v
}
