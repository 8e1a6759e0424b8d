package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/scenario"
)

var start0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// fakeELB holds rule weights as ELBv2 would.
type fakeELB struct{ rules map[string]map[string]int }

func (f *fakeELB) RuleWeights(ruleARN string) (map[string]int, error) {
	w, ok := f.rules[ruleARN]
	if !ok {
		return nil, fmt.Errorf("rule %s not found", ruleARN)
	}
	return maps.Clone(w), nil
}

func (f *fakeELB) ShiftRule(ruleARN string, weights map[string]int, _ time.Time) error {
	w, ok := f.rules[ruleARN]
	if !ok {
		return fmt.Errorf("rule %s not found", ruleARN)
	}
	maps.Copy(w, weights)
	return nil
}

func (f *fakeELB) TargetGroupName(arn string) string {
	if strings.HasPrefix(arn, "tg-") {
		return arn
	}
	return ""
}

type okAlarms struct{}

func (okAlarms) AlarmStatesAt(names []string, _ time.Time) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = "OK"
	}
	return out
}

type noTraffic struct{}

func (noTraffic) AdvanceTo(time.Time) {}

// seeded is ECS seeded from sc on fakes, advanced three minutes in.
func seeded(t testing.TB, sc *scenario.Scenario) (*Service, []scenario.ManifestTarget) {
	elb := &fakeELB{rules: map[string]map[string]int{}}
	albs := map[string]scenario.ManifestTarget{}
	for _, a := range sc.ALBs {
		rule := "rule-" + a.Name
		elb.rules[rule] = map[string]int{"tg-" + a.Name + "-stable": 100, "tg-" + a.Name + "-canary": 0}
		albs[a.Name] = scenario.ManifestTarget{Name: a.Name, RuleARN: rule, StableTargetGroupARN: "tg-" + a.Name + "-stable", CanaryTargetGroupARN: "tg-" + a.Name + "-canary"}
	}
	e := New(Deps{LoadBalancers: elb, Alarms: okAlarms{}, Traffic: noTraffic{}, Log: slog.New(slog.DiscardHandler)},
		"us-east-1", "123456789012", 1, start0.Add(-sc.History.D()))
	targets := e.Seed(sc, albs, 1, start0)
	e.Advance(start0.Add(3 * time.Minute))
	return e, targets
}

// FuzzECSRequest drives the awsJson1.1 ECS handler with any operation and
// body: every request gets an answer in ECS's shape (a JSON body; errors
// with X-Amzn-Errortype and __type), never a panic.
func FuzzECSRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"serviceDeploymentArns":["DEPLOY"]}`))
	f.Add(uint8(1), []byte(`{"cluster":"default","service":"web","status":["IN_PROGRESS"],"maxResults":1}`))
	f.Add(uint8(2), []byte(`{"serviceDeploymentArn":"DEPLOY","stopType":"ROLLBACK"}`))
	f.Add(uint8(3), []byte(`{"serviceDeploymentArn":"DEPLOY","hookId":"x","action":"CONTINUE"}`))
	f.Add(uint8(4), []byte(`{"cluster":"default","services":["web","nope"]}`))
	f.Add(uint8(5), []byte(`{"service":"web","taskDefinition":"web:9","deploymentConfiguration":{"strategy":"LINEAR","linearConfiguration":{"stepPercent":1}}}`))
	f.Add(uint8(6), []byte(`null`))
	f.Add(uint8(7), []byte(`{"serviceRevisionArns":[]}`))
	sc, err := scenario.Load("ecs-canary")
	if err != nil {
		f.Fatal(err)
	}
	names := awsproto.SortedKeys(ops)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		e, targets := seeded(t, sc)
		body = []byte(strings.ReplaceAll(string(body), "DEPLOY", targets[0].DeploymentARN))
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", targetPrefix+names[int(op)%len(names)])
		rec := httptest.NewRecorder()
		e.Serve(rec, r, body)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d answer is not JSON: %q", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Header().Get("X-Amzn-Errortype") == "" || out["__type"] == nil) {
			t.Fatalf("error %d not in ECS's shape: %v %q", rec.Code, rec.Header(), rec.Body.String())
		}
	})
}

// TestLinearStepsOnFakes: a LINEAR deployment steps 25% every 2 minutes on
// the rule, then bakes, then succeeds.
func TestLinearStepsOnFakes(t *testing.T) {
	sc, err := scenario.Load("ecs-linear")
	if err != nil {
		t.Fatal(err)
	}
	e, targets := seeded(t, sc)
	elb := e.deps.LoadBalancers.(*fakeELB)
	var got []int
	for m := 3; m <= 13; m++ {
		e.Advance(start0.Add(time.Duration(m)*time.Minute + 30*time.Second))
		got = append(got, elb.rules["rule-web"]["tg-web-canary"])
	}
	if fmt.Sprint(got) != "[25 50 50 75 75 100 100 100 100 100 100]" {
		t.Fatalf("canary weight minute by minute: %v", got)
	}
	st, err := e.Deployment(targets[0].DeploymentARN)
	if err != nil || st.Status != stSuccessful {
		t.Fatalf("after the bake: %+v %v", st, err)
	}
}
