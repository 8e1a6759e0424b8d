package model

import (
	"sort"
	"time"
)

// Point is one period's value. T is the start of the period.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Series keeps the newest points of one signal, sorted by time, at most cap
// of them. A period with no data simply has no point: charts show a gap
// instead of an invented zero.
type Series struct {
	cap    int
	points []Point
}

// NewSeries keeps at most capacity points.
func NewSeries(capacity int) *Series {
	if capacity < 1 {
		capacity = 1
	}
	return &Series{cap: capacity}
}

// Upsert adds points, replacing any existing point with the same timestamp:
// CloudWatch revises the newest periods as late data arrives, so an
// incremental poll re-reads them.
func (s *Series) Upsert(pts ...Point) {
	for _, p := range pts {
		i := sort.Search(len(s.points), func(i int) bool { return !s.points[i].T.Before(p.T) })
		switch {
		case i < len(s.points) && s.points[i].T.Equal(p.T):
			s.points[i] = p
		case i == len(s.points):
			s.points = append(s.points, p)
		default:
			s.points = append(s.points, Point{})
			copy(s.points[i+1:], s.points[i:])
			s.points[i] = p
		}
	}
	if over := len(s.points) - s.cap; over > 0 {
		// Shift down rather than reslice so the backing array does not grow
		// forever in a long session.
		n := copy(s.points, s.points[over:])
		s.points = s.points[:n]
	}
}

// Points returns a copy, oldest first.
func (s *Series) Points() []Point {
	out := make([]Point, len(s.points))
	copy(out, s.points)
	return out
}

// View is the points themselves, oldest first, for a reader that only
// reads them before the next Upsert (the owner's lock held): the judge
// reads six hours of them every poll, and copying them for it is the
// larger part of a fleet's garbage.
func (s *Series) View() []Point { return s.points }

// Since returns a copy of the points at or after t.
func (s *Series) Since(t time.Time) []Point {
	i := sort.Search(len(s.points), func(i int) bool { return !s.points[i].T.Before(t) })
	out := make([]Point, len(s.points)-i)
	copy(out, s.points[i:])
	return out
}

// Len is the number of points held.
func (s *Series) Len() int { return len(s.points) }

// Last is the newest point.
func (s *Series) Last() (Point, bool) {
	if len(s.points) == 0 {
		return Point{}, false
	}
	return s.points[len(s.points)-1], true
}
