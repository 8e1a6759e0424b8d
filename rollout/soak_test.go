package rollout_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// memory is one reading, after a full collection so that it measures
// what is kept rather than what is waiting to be collected.
type memory struct {
	heapInuse uint64
	rss       uint64 // VmRSS, bytes; 0 where /proc is not there
}

func (m memory) String() string {
	return fmt.Sprintf("HeapInuse %.1f MiB, VmRSS %.1f MiB", float64(m.heapInuse)/(1<<20), float64(m.rss)/(1<<20))
}

func measure(t *testing.T) memory {
	t.Helper()
	// Twice: the first collection's finalizers and freed buffers settle
	// in the second.
	for range 2 {
		runtime.GC()
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heapInuse: ms.HeapInuse, rss: vmRSS(t)}
}

func vmRSS(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return 0
}

// TestSoak24Hours runs the engine against the simulator for 24 simulated
// hours (after a half-day warm-up) on a manual clock: a poll every 30 s
// (2880 measured polls, each reading
// the split, health, metrics and alarms over loopback through the real
// SDK), a subscriber reading every snapshot as a screen would, and a
// shift every hour. Memory after hour 1 and after hour 24 must agree
// within 5%: the metric ring buffers, the simulator's store and the audit
// pane are all bounded, so nothing should grow with time.
func TestSoak24Hours(t *testing.T) {
	if testing.Short() {
		t.Skip("24 simulated hours")
	}
	const poll = 30 * time.Second
	hours, warmup := 24, 12
	if raceEnabled {
		// Five times slower and with memory the detector keeps: check
		// the behaviour over a shorter run and leave memory to the
		// plain `go test -run Soak ./rollout`.
		hours, warmup = 4, 0
		t.Log("race detector on: 4 simulated hours, memory not checked")
	}
	started := time.Now()
	// Six hours of history fill the simulator's metric store and the
	// engine's ring buffers before the first poll, so hour 1 is already
	// steady state: from then on anything that grows is a leak.
	sc, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	sc.History = sim.Duration(6 * time.Hour)
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	ctx := context.Background()
	mt := env.Manifest.Targets[0]
	router, err := perchaws.NewALBRouter(ctx, env.AWS, perchaws.ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	log, path := tempAudit(t)
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router, Metrics: perchaws.NewALBMetrics(env.AWS, router.Target()),
		Alarms: perchaws.NewAlarms(env.AWS), AlarmNames: mt.Alarms, Identity: perchaws.NewIdentity(env.AWS),
		Audit: log, Clock: env.Clock, Poll: poll, History: 6 * time.Hour, DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	updates, cancel := eng.Subscribe()
	defer cancel()
	screen := make(chan int)
	go func() {
		n := 0
		for range updates {
			n++
		}
		screen <- n
	}()

	var hour1 memory
	polls := 0
	// The first simulated half day is a warm-up, not measured: over it
	// RSS creeps up about 1.5 MiB and then stays flat (goroutine stacks
	// grow to their working depth, the GC's metadata to its working
	// size) while HeapInuse does not move. Measuring from hour 1 of a
	// cold process would charge that to the soak.
	for h := 1 - warmup; h <= hours; h++ {
		for range int(time.Hour / poll) {
			env.Advance(poll)
			snap := eng.PollOnce(ctx)
			polls++
			if !snap.SplitKnown || snap.MetricsErr != "" || snap.AlarmsErr != "" {
				t.Fatalf("poll %d (hour %d): split %v %q, metrics %q, alarms %q", polls, h, snap.SplitKnown, snap.SplitErr, snap.MetricsErr, snap.AlarmsErr)
			}
		}
		// An operator tries 25% and thinks better of it at once: the
		// audit path runs every hour while the traffic the simulator
		// generates (and so the size of what it keeps) stays the same.
		for _, pct := range []float64{25, 10} {
			seen := eng.Snapshot().Split
			res := eng.Execute(ctx, model.Intent{Kind: model.SetPercent, Percent: pct, Expected: &seen, Actor: operator()})
			if !res.Verified {
				t.Fatalf("hour %d shift to %v%%: %+v", h, pct, res)
			}
		}
		if h == 1 {
			hour1 = measure(t)
		}
	}
	hour24 := measure(t) // hour `hours`: 24 unless the race detector is on
	cancel()

	snap := eng.Snapshot()
	if n := len(snap.Signals[model.Canary][model.Requests]); n > 6*60 {
		t.Errorf("the canary request series holds %d points: the ring buffer is not bounded", n)
	}
	rep, err := audit.Verify(path)
	if err != nil || rep.Entries != 4*(hours+warmup) {
		t.Fatalf("audit after the soak: %+v %v, want %d entries", rep, err, 4*(hours+warmup))
	}
	t.Logf("%d polls over %d simulated hours (%d of them warm-up) in %s", polls, hours+warmup, warmup, time.Since(started).Round(time.Millisecond))
	t.Logf("hour 1:  %s", hour1)
	t.Logf("hour %d: %s", hours, hour24)
	if raceEnabled {
		return
	}
	if hour1.rss > 0 {
		growth := float64(hour24.rss)/float64(hour1.rss) - 1
		t.Logf("VmRSS change hour 1 → 24: %+.1f%%", 100*growth)
		if growth > 0.05 {
			t.Errorf("VmRSS grew %.1f%% from hour 1 to hour 24 (limit 5%%)", 100*growth)
		}
	}
	heapGrowth := float64(hour24.heapInuse)/float64(hour1.heapInuse) - 1
	t.Logf("HeapInuse change hour 1 → 24: %+.1f%%", 100*heapGrowth)
	if heapGrowth > 0.05 {
		t.Errorf("HeapInuse grew %.1f%% from hour 1 to hour 24 (limit 5%%)", 100*heapGrowth)
	}
}
