package model

import (
	"strings"
	"testing"
	"time"
)

func TestSplitPercentAndSameRouting(t *testing.T) {
	s := Split{StableID: "a", CanaryID: "b", StableWeight: 95, CanaryWeight: 5}
	if s.CanaryPercent() != 5 || s.StablePercent() != 95 {
		t.Fatalf("%v", s)
	}
	scaled := Split{StableID: "a", CanaryID: "b", StableWeight: 190, CanaryWeight: 10}
	if !s.SameRouting(scaled) {
		t.Error("95/5 and 190/10 are the same routing")
	}
	if s.SameRouting(s.WithCanaryPercent(10)) {
		t.Error("5% and 10% are not the same routing")
	}
	if s.SameRouting(Split{StableID: "a", CanaryID: "c", StableWeight: 95, CanaryWeight: 5}) {
		t.Error("a different canary is not the same routing")
	}
	zero := Split{StableID: "a", CanaryID: "b"}
	if zero.CanaryPercent() != 0 || zero.StablePercent() != 0 || zero.SameRouting(s.WithCanaryPercent(0)) {
		t.Error("0/0 weights send no traffic anywhere and differ from 100/0")
	}
	if got := s.WithCanaryPercent(25); got.StableWeight != 75 || got.CanaryWeight != 25 {
		t.Errorf("WithCanaryPercent(25) = %+v", got)
	}
	if got := s.WithCanaryPercent(140); got.CanaryWeight != 100 {
		t.Errorf("clamped: %+v", got)
	}
	if got := s.String(); got != "stable 95% / canary 5%" {
		t.Errorf("String() = %q", got)
	}
	if FormatPercent(2.5) != "2.5%" {
		t.Error(FormatPercent(2.5))
	}
}

func TestLadder(t *testing.T) {
	l := DefaultLadder()
	cases := []struct {
		cur, next, prev float64
		okNext, okPrev  bool
	}{
		{0, 1, 0, true, false},
		{5, 10, 1, true, true},
		{7, 10, 5, true, true}, // between steps: the next step each way
		{100, 0, 50, false, true},
	}
	for _, c := range cases {
		n, ok := l.Next(c.cur)
		if ok != c.okNext || (ok && n != c.next) {
			t.Errorf("Next(%v) = %v %v", c.cur, n, ok)
		}
		p, ok := l.Prev(c.cur)
		if ok != c.okPrev || (ok && p != c.prev) {
			t.Errorf("Prev(%v) = %v %v", c.cur, p, ok)
		}
	}
	if _, err := ParseLadder("0, 5%, 50,100"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "5", "0,50,10", "0,x", "0,101", "-1,5", "0,,5"} {
		if _, err := ParseLadder(bad); err == nil {
			t.Errorf("ParseLadder(%q) accepted", bad)
		}
	}
}

func FuzzParseLadder(f *testing.F) {
	for _, s := range []string{"0,1,5,10,25,50,100", "0,100", "5%,10%", "a,b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLadder(s)
		if err != nil {
			return
		}
		for i, v := range l {
			if v < 0 || v > 100 || (i > 0 && v <= l[i-1]) {
				t.Fatalf("ParseLadder(%q) = %v", s, l)
			}
		}
	})
}

func TestSeriesUpsertOrderAndCapacity(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	s := NewSeries(3)
	s.Upsert(Point{at(2), 2}, Point{at(0), 0}, Point{at(1), 1})
	s.Upsert(Point{at(1), 10}) // a revised period replaces, not duplicates
	pts := s.Points()
	if len(pts) != 3 || pts[0].V != 0 || pts[1].V != 10 || pts[2].V != 2 {
		t.Fatalf("%v", pts)
	}
	s.Upsert(Point{at(3), 3})
	if pts := s.Points(); len(pts) != 3 || pts[0].T != at(1) {
		t.Fatalf("capacity not enforced, oldest not dropped: %v", pts)
	}
	if got := s.Since(at(2)); len(got) != 2 {
		t.Fatalf("Since: %v", got)
	}
	if last, ok := s.Last(); !ok || last.V != 3 {
		t.Fatalf("Last: %v", last)
	}
}

func TestErrorRateLeavesGaps(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	req := []Point{{base, 200}, {base.Add(time.Minute), 0}, {base.Add(2 * time.Minute), 100}}
	errs := []Point{{base, 4}}
	got := ErrorRate(req, errs)
	if len(got) != 2 || got[0].V != 2 || got[1].V != 0 {
		t.Fatalf("%v", got)
	}
}

func TestIntentTargets(t *testing.T) {
	s := Split{StableID: "a", CanaryID: "b"}.WithCanaryPercent(10)
	l := DefaultLadder()
	for kind, want := range map[IntentKind]float64{StepUp: 25, StepDown: 5, Promote: 100, Rollback: 0} {
		got, err := Intent{Kind: kind}.Target(s, l)
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", kind, got, err, want)
		}
	}
	if _, err := (Intent{Kind: SetPercent, Percent: 120}).Target(s, l); err == nil {
		t.Error("120% accepted")
	}
	if _, err := (Intent{Kind: StepUp}).Target(s.WithCanaryPercent(100), l); err == nil || !strings.Contains(err.Error(), "top") {
		t.Errorf("step up from 100%%: %v", err)
	}
}

func TestObservedShareCountsThrottledInvocations(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Snapshot{Signals: Signals{
		SideSignals{Requests: {{at, 75}}},
		SideSignals{Requests: {{at, 5}}, Throttles: {{at, 20}}},
	}}
	if share, ok := s.ObservedCanaryShare(at); !ok || share != 25 {
		t.Fatalf("observed share %v, want 25: routing happens before throttling", share)
	}
}
