package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Ladder is the set of canary percentages the operator steps along.
type Ladder []float64

// DefaultLadder is 0, 1, 5, 10, 25, 50, 100.
func DefaultLadder() Ladder { return Ladder{0, 1, 5, 10, 25, 50, 100} }

// ParseLadder reads "0,1,5,10,25,50,100" (a trailing % on each is allowed).
// Steps must be within 0-100 and strictly increasing.
func ParseLadder(s string) (Ladder, error) {
	var l Ladder
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSuffix(strings.TrimSpace(f), "%")
		if f == "" {
			return nil, fmt.Errorf("ladder %q: empty step", s)
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v < 0 || v > 100 {
			return nil, fmt.Errorf("ladder %q: step %q is not a percentage 0-100", s, f)
		}
		if len(l) > 0 && v <= l[len(l)-1] {
			return nil, fmt.Errorf("ladder %q: steps must increase", s)
		}
		l = append(l, v)
	}
	if len(l) < 2 {
		return nil, fmt.Errorf("ladder %q: needs at least two steps", s)
	}
	return l, nil
}

// Next is the smallest step above cur.
func (l Ladder) Next(cur float64) (float64, bool) {
	i := sort.SearchFloat64s(l, cur+0.05)
	if i >= len(l) {
		return 0, false
	}
	return l[i], true
}

// Prev is the largest step below cur.
func (l Ladder) Prev(cur float64) (float64, bool) {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i] < cur-0.05 {
			return l[i], true
		}
	}
	return 0, false
}
