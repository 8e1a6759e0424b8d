package record

import (
	"errors"
	"fmt"
	"io"
)

// A recording is a file someone hands over: perch replay reads it into
// memory, so everything in it that costs memory is bounded. The writer
// stops at the same bounds, so a recording perch made always replays.
type limits struct {
	// Bytes bounds the decompressed stream: gzip turns 2 MB into
	// gigabytes. 256 MiB is about a day of snapshots every 10 s with a
	// full audit pane in each.
	Bytes int64
	// Line bounds one line, a snapshot with its series deltas.
	Line int
	// Frames and Actions bound the lines of each kind: a frame costs
	// about a kilobyte in memory, and five to decode, even when its line
	// is tiny. 50,000 snapshots are nearly six days of polls every 10 s.
	Frames, Actions int
	// Series bounds the distinct (side, signal) series, and SeriesPoints
	// the points one series may hold (the engine keeps 360).
	Series, SeriesPoints int
	// HeldPoints bounds the points kept in all: the series as they stand
	// plus the checkpoints that make seeking cheap, each a copy of them.
	HeldPoints int
}

// defaultLimits are what Read and the Writer apply.
func defaultLimits() limits {
	return limits{
		Bytes:        256 << 20,
		Line:         8 << 20,
		Frames:       50_000,
		Actions:      100_000,
		Series:       64,
		SeriesPoints: 20_000,
		HeldPoints:   4 << 20, // 128 MiB of points
	}
}

// ErrTooLarge is a recording past one of the bounds.
var ErrTooLarge = errors.New("recording too large")

func tooLarge(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrTooLarge, fmt.Sprintf(format, a...))
}

// boundedReader fails once more than left bytes have been read.
type boundedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.r.Read(one[:]); n > 0 {
			return 0, tooLarge("more than %d MiB once decompressed", b.limit>>20)
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
