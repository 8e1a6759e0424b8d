package ui

import (
	"runtime"
	"testing"
)

// A terminal (or an SSH client) may claim a huge size. The frame still
// fills it exactly, but the charts are drawn at a bounded size and padded:
// their canvas costs about 600 bytes a cell, which at 1000x500 was 260 MB
// for one cockpit.
func TestHugeTerminalCostsBoundedMemory(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	screen(t, m, 1000, 500)
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("a 1000x500 cockpit holds %.1f MiB", float64(grew)/(1<<20))
	if grew > 64<<20 {
		t.Fatalf("a 1000x500 cockpit holds %d MiB, bound 64", grew>>20)
	}
	runtime.KeepAlive(m)
}
