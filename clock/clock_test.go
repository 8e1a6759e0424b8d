package clock

import (
	"testing"
	"time"
)

func TestManualFiresDueTimersInOrder(t *testing.T) {
	m := NewManual(time.Unix(0, 0))
	late, early := m.After(2*time.Minute), m.After(time.Minute)
	m.Advance(90 * time.Second)
	select {
	case <-early:
	default:
		t.Fatal("timer due at 1m did not fire at 1m30s")
	}
	select {
	case <-late:
		t.Fatal("timer due at 2m fired at 1m30s")
	default:
	}
	if m.Pending() != 1 {
		t.Fatalf("pending %d", m.Pending())
	}
	m.Advance(time.Minute)
	<-late
}

func TestManualBlockUntil(t *testing.T) {
	m := NewManual(time.Unix(0, 0))
	go func() { <-m.After(time.Second) }()
	m.BlockUntil(1)
	if m.Pending() != 1 {
		t.Fatal("BlockUntil returned before a timer was armed")
	}
}

func TestScaledRunsFaster(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewScaled(origin, 1000)
	if s.Now().Before(origin) {
		t.Fatal("scaled clock went backwards")
	}
	at := <-s.After(time.Minute) // 60 ms of wall time
	if at.Sub(origin) < time.Minute {
		t.Fatalf("After(1m) fired at +%v", at.Sub(origin))
	}
}
