package model

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func steps(pairs ...any) []PlanStep {
	var out []PlanStep
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, PlanStep{Percent: float64(pairs[i].(int)), Bake: pairs[i+1].(time.Duration)})
	}
	return out
}

const m = time.Minute

func TestParsePlanGood(t *testing.T) {
	cases := []struct {
		in   string
		want []PlanStep
	}{
		{"5%:10m,25%:10m,50%:10m,100%", steps(5, 10*m, 25, 10*m, 50, 10*m, 100, time.Duration(0))},
		{" 1:30s , 10%:1h30m, 100%:5m ", steps(1, 30*time.Second, 10, 90*m, 100, 5*m)},
		{"100%", steps(100, time.Duration(0))},
		{"50%:0s,60%", steps(50, time.Duration(0), 60, time.Duration(0))}, // stopping short of 100% is allowed
		{"2.5%:1m,100%", []PlanStep{{2.5, m}, {100, 0}}},
		{"Canary10Percent5Minutes", steps(10, 5*m, 100, time.Duration(0))},
		{"CodeDeployDefault.LambdaCanary10Percent30Minutes", steps(10, 30*m, 100, time.Duration(0))},
		{"CodeDeployDefault.ECSCanary10Percent15Minutes", steps(10, 15*m, 100, time.Duration(0))},
		{"LambdaCanary10Percent10Minutes", steps(10, 10*m, 100, time.Duration(0))},
		{"Linear10PercentEvery1Minute", steps(10, m, 20, m, 30, m, 40, m, 50, m, 60, m, 70, m, 80, m, 90, m, 100, time.Duration(0))},
		{"CodeDeployDefault.ECSLinear10PercentEvery3Minutes", steps(10, 3*m, 20, 3*m, 30, 3*m, 40, 3*m, 50, 3*m, 60, 3*m, 70, 3*m, 80, 3*m, 90, 3*m, 100, time.Duration(0))},
		{"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", steps(10, m, 20, m, 30, m, 40, m, 50, m, 60, m, 70, m, 80, m, 90, m, 100, time.Duration(0))},
		{"Linear30PercentEvery2Minutes", steps(30, 2*m, 60, 2*m, 90, 2*m, 100, time.Duration(0))},
		{"AllAtOnce", steps(100, time.Duration(0))},
		{"CodeDeployDefault.LambdaAllAtOnce", steps(100, time.Duration(0))},
		{"codedeploydefault.ecsallatonce", steps(100, time.Duration(0))},
	}
	for _, c := range cases {
		p, err := ParsePlan(c.in)
		if err != nil {
			t.Errorf("ParsePlan(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(p.Steps, c.want) {
			t.Errorf("ParsePlan(%q) = %v, want %v", c.in, p.Steps, c.want)
		}
		if p.Policy != DefaultPlanPolicy() {
			t.Errorf("ParsePlan(%q) policy %+v", c.in, p.Policy)
		}
		back, err := ParsePlan(p.String())
		if err != nil || !reflect.DeepEqual(back.Steps, p.Steps) {
			t.Errorf("round trip of %q via %q: %v %v", c.in, p.String(), back.Steps, err)
		}
	}
	if p, _ := ParsePlan("5%:10m,25%:10m,50%:10m,100%"); p.String() != "5%:10m,25%:10m,50%:10m,100%" {
		t.Errorf("String() = %q", p.String())
	}
}

func TestParsePlanBad(t *testing.T) {
	cases := []struct{ in, wantErr string }{
		{"", "empty"},
		{"   ", "empty"},
		{"5%:10m,,100%", `step 2 "": is empty`},
		{"5%:10m,25%,100%", `step 2 "25%": needs a bake`},
		{"5%:10x,100%", `step 1 "5%:10x": bake "10x" is not a duration`},
		{"5%:-1m,100%", `bake "-1m"`},
		{"0%:1m,100%", `"0%" is not a percentage`},
		{"5%:1m,101%", `step 2 "101%": "101%" is not a percentage`},
		{"50%:1m,25%:1m,100%", "step 2: 25% does not increase from 50%"},
		{"50%:1m,50%", "step 2: 50% does not increase from 50%"},
		{"x%:1m", `"x%" is not a percentage`},
		{"x", "not steps"},
		{"5%%:1m", `"5%%" is not a percentage`},
		{"NaN%:1m,100%", "not a percentage"},
		{"5%:1m:2m,100%", "bake"},
		{"Canary0Percent5Minutes", "between 1 and 99"},
		{"Canary100Percent5Minutes", "between 1 and 99"},
		{"Canary10Percent0Minutes", "at least a minute"},
		{"Linear10PercentEvery", "CodeDeploy configuration name"},
		{"TimeBasedCanary", "CodeDeploy configuration name"},
		{"CodeDeployDefault.OneAtATime", "CodeDeploy configuration name"},
		{"Canary10Percent5MinutesX", "CodeDeploy configuration name"},
	}
	for _, c := range cases {
		_, err := ParsePlan(c.in)
		if err == nil {
			t.Errorf("ParsePlan(%q) accepted", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParsePlan(%q) error %q, want one line containing %q", c.in, err, c.wantErr)
		}
	}
}

func TestParsePlanYAML(t *testing.T) {
	good := `
name: careful
rollback_on_alarm: false
steps:
  - {percent: 5, bake: 10m}
  - percent: 25%
    bake: 1h
  - {percent: 100}
`
	p, err := ParsePlanYAML([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := Plan{Name: "careful", Steps: steps(5, 10*m, 25, time.Hour, 100, time.Duration(0)),
		Policy: PlanPolicy{RollbackOnFail: true, RollbackOnAlarm: false}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	p, err = ParsePlanYAML([]byte(`"Canary10Percent5Minutes"`))
	if err != nil || len(p.Steps) != 2 {
		t.Errorf("string form: %+v %v", p, err)
	}
	p, err = ParsePlanYAML([]byte("steps: [{percent: 10, bake: 0s}, {percent: 100}]"))
	if err != nil || p.Name != "10%:0s,100%" {
		t.Errorf("unnamed: %+v %v", p, err)
	}

	bad := []struct{ in, wantErr string }{
		{"", "empty"},
		{"name: x\n", "line 1: plan has no steps"},
		{"steps:\n  - {percent: 5, bake: 10m}\n  - {percent: 100, wait: 1m}\n", `line 3: step 2: unknown field "wait"`},
		{"name: x\nstep:\n  - {percent: 5}\n", `line 2: unknown field "step"`},
		{"steps:\n  - {percent: 5, bake: 10}\n  - {percent: 100}\n", `line 2: step 1: bake "10" is not a duration`},
		{"steps:\n  - {percent: 50, bake: 1m}\n  - {percent: 10}\n", "line 3: step 2: 10% does not increase from 50%"},
		{"steps:\n  - {percent: 5}\n  - {percent: 100}\n", "line 2: step 1 (5%) needs a bake"},
		{"steps:\n  - {bake: 5m}\n", "line 2: step 1 has no percent"},
		{"steps:\n  - {percent: 0, bake: 5m}\n", `line 2: step 1: "0" is not a percentage`},
		{"steps:\n  - {percent: [5]}\n", "line 2: step 1: percent wants a single value"},
		{"steps: 5%:1m\n", "line 1: steps is a list"},
		{"steps:\n  - 5%\n", "line 2: step 1 is not a {percent, bake} mapping"},
		{"rollback_on_fail: maybe\nsteps: [{percent: 100}]\n", `line 1: "maybe" is not true or false`},
		{"steps: [{percent: 100}]\nsteps: [{percent: 50}]\n", `line 2: "steps" already given on line 1`},
		{"steps: [{percent: 5, percent: 6}]\n", "percent given twice"},
		{"- 1\n- 2\n", "line 1: a plan is a mapping"},
		{"steps: [\n", "plan YAML"},
		{`"5%:1m,1%"`, "line 1: plan"},
	}
	for _, c := range bad {
		_, err := ParsePlanYAML([]byte(c.in))
		if err == nil {
			t.Errorf("ParsePlanYAML(%q) accepted", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParsePlanYAML(%q) error %q, want %q", c.in, err, c.wantErr)
		}
	}
}

func TestPlanNext(t *testing.T) {
	p, _ := ParsePlan("5%:10m,25%:10m,100%")
	noFail := p
	noFail.Policy = PlanPolicy{}
	half, _ := ParsePlan("5%:10m,50%")
	t0 := simBase
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	st := func(step int, entered time.Duration) PlanState { return PlanState{Step: step, EnteredAt: at(entered)} }
	pass, fail, insuff := VerdictPass, VerdictFail, VerdictInsufficient

	cases := []struct {
		name    string
		plan    Plan
		state   PlanState
		now     time.Duration
		verdict VerdictKind
		alarm   bool
		cur     float64
		action  PlanAction
		to      float64
		reason  string
	}{
		{"start without a verdict", p, PlanState{}, 0, insuff, false, 0, PlanAdvance, 5, "start"},
		{"no start into an alarm", p, PlanState{}, 0, insuff, true, 0, PlanRollback, 0, "ALARM"},
		{"baking", p, st(0, 0), 4 * m, pass, false, 5, PlanHold, 5, "6m left"},
		{"baked but insufficient", p, st(0, 0), 10 * m, insuff, false, 5, PlanHold, 5, "waiting for the judge (INSUFFICIENT)"},
		{"baked and pass", p, st(0, 0), 10 * m, pass, false, 5, PlanAdvance, 25, "step 2 of 3, 25%"},
		{"pass but still baking", p, st(1, 0), 9 * m, pass, false, 25, PlanHold, 25, "baking step 2"},
		{"last step", p, st(2, 0), 0, pass, false, 100, PlanComplete, 100, "complete"},
		// At 100% stable serves nothing to compare with: the judge can
		// never PASS, and completing moves no traffic.
		{"last step at 100% without a verdict", p, st(2, 0), time.Hour, insuff, false, 100, PlanComplete, 100, "no traffic left to judge against"},
		{"last step at 100% still fails on an alarm", p, st(2, 0), time.Hour, insuff, true, 100, PlanRollback, 0, "ALARM"},
		{"last step below 100% insufficient", half, st(1, 0), time.Hour, insuff, false, 50, PlanHold, 50, "waiting"},
		{"fail rolls back", p, st(1, 0), 20 * m, fail, false, 25, PlanRollback, 0, "FAIL"},
		{"fail while baking rolls back", p, st(1, 0), time.Minute, fail, false, 25, PlanRollback, 0, "FAIL"},
		{"alarm rolls back even on pass", p, st(1, 0), 20 * m, pass, true, 25, PlanRollback, 0, "ALARM"},
		{"fail, rollback off: hold", noFail, st(1, 0), 20 * m, fail, false, 25, PlanHold, 25, "rollback is off"},
		{"alarm, rollback off: hold", noFail, st(0, 0), 20 * m, pass, true, 5, PlanHold, 5, "rollback is off"},
		{"paused: nothing", p, PlanState{Step: 0, EnteredAt: t0, Paused: true}, 20 * m, pass, false, 5, PlanHold, 5, "paused"},
		{"paused on fail says so", p, PlanState{Step: 0, EnteredAt: t0, Paused: true}, 20 * m, fail, false, 5, PlanHold, 5, "roll back by hand"},
		{"moved outside the plan", p, st(0, 0), 20 * m, pass, false, 50, PlanHold, 50, "outside the plan"},
		{"router rounding is not a move", p, st(0, 0), 20 * m, pass, false, 5.01, PlanAdvance, 25, ""},
		{"done", p, PlanState{Step: 2, EnteredAt: t0, Done: true}, time.Hour, pass, false, 100, PlanHold, 100, "finished"},
		{"already rolled back", p, st(1, 0), time.Hour, fail, false, 0, PlanHold, 0, "already at 0%"},
		{"bad state", p, st(7, 0), 0, pass, false, 5, PlanHold, 5, "step 8 of 3"},
		{"empty plan", Plan{}, PlanState{}, 0, pass, false, 0, PlanHold, 0, "no steps"},
	}
	for _, c := range cases {
		d := c.plan.Next(c.state, at(c.now), c.verdict, c.alarm, c.cur)
		if d.Action != c.action || d.ToPercent != c.to || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: %+v, want %s to %v (%q)", c.name, d, c.action, c.to, c.reason)
		}
	}
}

func TestPlanWalk(t *testing.T) {
	// Drive a plan to the end: it never advances before the bake is over
	// nor without PASS, and Apply keeps the state in step.
	p, _ := ParsePlan("Linear25PercentEvery2Minutes")
	var s PlanState
	cur := 0.0
	var advances []time.Duration
	for tick := time.Duration(0); tick <= time.Hour && !s.Done; tick += 30 * time.Second {
		verdict := VerdictPass
		if tick < 5*m {
			verdict = VerdictInsufficient // too little data early on
		}
		d := p.Next(s, simBase.Add(tick), verdict, false, cur)
		switch d.Action {
		case PlanAdvance:
			if s.Started() && (verdict != VerdictPass || simBase.Add(tick).Sub(s.EnteredAt) < p.Steps[s.Step].Bake) {
				t.Fatalf("advanced at %v with %s, %v into the step", tick, verdict, simBase.Add(tick).Sub(s.EnteredAt))
			}
			cur = d.ToPercent
			advances = append(advances, tick)
		case PlanRollback:
			t.Fatalf("rollback at %v: %s", tick, d.Reason)
		}
		s = p.Apply(s, d, simBase.Add(tick))
	}
	want := []time.Duration{0, 5 * m, 7 * m, 9 * m}
	if !s.Done || cur != 100 || !reflect.DeepEqual(advances, want) {
		t.Fatalf("done %v at %v%%, advances %v, want %v", s.Done, cur, advances, want)
	}
	if r := p.Apply(PlanState{Step: 1, EnteredAt: simBase}, PlanDecision{Action: PlanRollback}, simBase); !r.Done {
		t.Error("a rollback must end the plan")
	}
}

func checkPlan(t *testing.T, in string, p Plan) {
	t.Helper()
	if len(p.Steps) == 0 {
		t.Fatalf("%q: no steps", in)
	}
	for i, s := range p.Steps {
		if !(s.Percent > 0 && s.Percent <= 100) || s.Bake < 0 || (i > 0 && s.Percent <= p.Steps[i-1].Percent) {
			t.Fatalf("%q: bad step %d: %+v", in, i, p.Steps)
		}
	}
}

func FuzzParsePlan(f *testing.F) {
	for _, s := range []string{"5%:10m,25%:10m,50%:10m,100%", "100%", "1:1s,2", "Canary10Percent5Minutes",
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", "AllAtOnce", "5%:1m,1%", "", ",", "1e2", "0x1p-2%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlan(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error for %q: %v", s, err)
			}
			return
		}
		checkPlan(t, s, p)
		back, err := ParsePlan(p.String())
		if err != nil || !reflect.DeepEqual(back.Steps, p.Steps) {
			t.Fatalf("%q -> %q -> %v, %v", s, p.String(), back.Steps, err)
		}
	})
}

func FuzzParsePlanYAML(f *testing.F) {
	for _, s := range []string{
		"steps: [{percent: 5, bake: 10m}, {percent: 100}]",
		"name: x\nrollback_on_fail: false\nsteps:\n  - percent: 5%\n    bake: 1m\n  - percent: 100\n",
		`"Linear10PercentEvery1Minute"`, "steps: [", "- a", "steps: {a: b}", "&a [*a]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlanYAML(b)
		if err != nil {
			return
		}
		checkPlan(t, string(b), p)
	})
}
