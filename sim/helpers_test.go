package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
func (c fixedClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.t.Add(d)
	return ch
}

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
