package sim

import (
	"fmt"
	"math"
	"time"
)

// Drift is a second operator who changes a target's weights on a
// schedule, behind the back of whoever is watching: every Every of
// simulated time the canary moves to the next of driftPercents that
// differs from where it is.
type Drift struct {
	// Target is a manifest target's name (an ALB canary or a Lambda alias).
	Target string   `json:"target" yaml:"target"`
	Every  Duration `json:"every" yaml:"every"`
}

// driftPercents is the other operator's habit: plausible canary steps.
var driftPercents = []int{5, 20, 35, 50}

// maxDriftCatchUp bounds the changes replayed when the clock jumps far
// ahead: only the newest weights are visible anyway.
const maxDriftCatchUp = 8

type driftState struct {
	Drift
	target ManifestTarget
	next   time.Time
	step   int
}

// InjectDrift starts a drift; its first change is Every from now.
func (s *Sim) InjectDrift(d Drift) error {
	if d.Every.D() < time.Second {
		return fmt.Errorf("inject drift: every %s is below 1s", d.Every.D())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injectDriftLocked(d, s.clock.Now())
}

func (s *Sim) injectDriftLocked(d Drift, at time.Time) error {
	if d.Every.D() < time.Second {
		return fmt.Errorf("inject drift: every %s is below 1s", d.Every.D())
	}
	var target *ManifestTarget
	for i := range s.targets {
		t := &s.targets[i]
		if t.Name == d.Target && t.Note == "" && (t.Kind == "alb" && t.RuleARN != "" || t.Kind == "lambda" && t.Alias != "") {
			target = t
		}
	}
	if target == nil {
		return fmt.Errorf("inject drift: no target named %q that drift can change (have %s)", d.Target, s.driftableNamesLocked())
	}
	s.drifts = append(s.drifts, &driftState{Drift: d, target: *target, next: at.Add(d.Every.D())})
	return nil
}

func (s *Sim) driftableNamesLocked() string {
	out := ""
	for _, t := range s.targets {
		if t.Note == "" && (t.Kind == "alb" || t.Kind == "lambda") {
			if out != "" {
				out += ", "
			}
			out += t.Name
		}
	}
	if out == "" {
		return "none"
	}
	return out
}

// applyDriftsLocked makes every change that has come due by now.
func (s *Sim) applyDriftsLocked(now time.Time) {
	for _, d := range s.drifts {
		if d.next.After(now) {
			continue
		}
		every := d.Every.D()
		if behind := int(now.Sub(d.next) / every); behind > maxDriftCatchUp {
			d.next = d.next.Add(time.Duration(behind-maxDriftCatchUp) * every)
		}
		for !d.next.After(now) {
			if err := s.driftOnceLocked(d); err != nil {
				s.log.Debug("sim: drift", "target", d.Target, "err", err)
			}
			d.next = d.next.Add(every)
		}
	}
}

func (s *Sim) driftOnceLocked(d *driftState) error {
	cur, err := s.canaryPercentLocked(d.target)
	if err != nil {
		return err
	}
	pct := driftPercents[d.step%len(driftPercents)]
	d.step++
	if math.Abs(float64(pct)-cur) < 0.5 {
		pct = driftPercents[d.step%len(driftPercents)]
		d.step++
	}
	switch d.target.Kind {
	case "lambda":
		a, err := s.lambda.Alias(d.target.Function, d.target.Alias)
		if err != nil {
			return err
		}
		stable, canary := a.FunctionVersion, d.target.CanaryVersion
		for v := range a.Weights {
			canary = v
		}
		if canary == stable {
			canary = d.target.StableVersion
		}
		if err := s.lambda.RouteAlias(d.target.Function, d.target.Alias, stable, map[string]float64{canary: float64(pct) / 100}); err != nil {
			return err
		}
	default:
		if err := s.elb.SetRuleWeights(d.target.RuleARN, map[string]int{
			d.target.StableTargetGroupARN: 100 - pct, d.target.CanaryTargetGroupARN: pct,
		}); err != nil {
			return err
		}
	}
	return nil
}

// canaryPercentLocked reads the target's canary share now.
func (s *Sim) canaryPercentLocked(t ManifestTarget) (float64, error) {
	if t.Kind == "lambda" {
		a, err := s.lambda.Alias(t.Function, t.Alias)
		if err != nil {
			return 0, fmt.Errorf("alias %s:%s is gone", t.Function, t.Alias)
		}
		var w float64
		for _, v := range a.Weights {
			w += v
		}
		return 100 * w, nil
	}
	return s.elb.CanaryPercent(t.RuleARN, t.CanaryTargetGroupARN)
}
