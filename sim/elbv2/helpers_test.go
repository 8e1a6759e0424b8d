package elbv2

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
)

func checkRuleInvariants(t *testing.T, as []action) {
	t.Helper()
	if len(as) == 0 {
		t.Fatal("rule with no actions")
	}
	if !terminalAction[as[len(as)-1].typ] {
		t.Fatalf("last action %s is not terminal", as[len(as)-1].typ)
	}
	for i, a := range as {
		if i > 0 && a.order <= as[i-1].order {
			t.Fatalf("actions not in increasing order")
		}
		if a.forward != nil {
			if len(a.forward.groups) == 0 || len(a.forward.groups) > maxTargetGroupsPerForward {
				t.Fatalf("forward with %d groups", len(a.forward.groups))
			}
			for _, g := range a.forward.groups {
				if g.weight < 0 || g.weight > maxWeight {
					t.Fatalf("weight %d", g.weight)
				}
			}
		}
	}
}

var epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// recorder captures what the traffic model publishes.
type recorder struct{ datums []metrics.Datum }

func (r *recorder) Put(d metrics.Datum) { r.datums = append(r.datums, d) }

// seededELB is an ELBv2 seeded with a scenario's ALBs, as the simulator
// seeds it, publishing to a recorder.
type seededELB struct {
	*Service
	targets []scenario.ManifestTarget
	rec     *recorder
}

func seeded(sc *scenario.Scenario) seededELB { return seededWith(sc, sc.Seed) }

func seededWith(sc *scenario.Scenario, seed int64) seededELB {
	e := seededELB{Service: New("us-east-1", "123456789012"), rec: &recorder{}}
	e.StartTraffic(e.rec, seed, epoch, sc.History.D(), sc.PublishDelay.D())
	for i := range sc.ALBs {
		e.targets = append(e.targets, e.SeedALB(&sc.ALBs[i], Seeding{Seed: seed, Start: epoch, History: sc.History.D(),
			Caller: "arn:aws:sts::123456789012:assumed-role/perch-demo/operator"})...)
	}
	e.AdvanceTraffic(epoch)
	return e
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

func newFormRequest(body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
