package audit

import (
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one fsynced append; the fsync dominates, so the
// figure says more about the disk than about this code.
func BenchmarkAppend(b *testing.B) {
	l := openT(b, filepath.Join(b.TempDir(), "bench.jsonl"))
	e := sample(1)
	for b.Loop() {
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal is the CPU part of an append (encode, round trip, hash,
// self-check), to set against BenchmarkAppend.
func BenchmarkSeal(b *testing.B) {
	e := sample(1)
	e.Seq, e.Prev = 2, GenesisHash
	for b.Loop() {
		if _, _, err := seal(e); err != nil {
			b.Fatal(err)
		}
	}
}
