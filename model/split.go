// Package model is perch's domain: splits, series, snapshots, intents and
// audit entries. It is pure: no AWS SDK, no bubbletea, no network.
package model

import (
	"fmt"
	"math"
)

// Split is the routing state of a canary as the router last read it.
type Split struct {
	StableID     string `json:"stable_id"` // target group ARN, or Lambda version
	CanaryID     string `json:"canary_id"`
	StableWeight int    `json:"stable_weight"` // raw router weights (ALB 0-999)
	CanaryWeight int    `json:"canary_weight"`
	// Revision is an opaque compare-and-set token from the router, when it
	// has one (Lambda's RevisionId). ALB has none: perch re-reads instead.
	Revision string `json:"revision,omitempty"`
}

// CanaryPercent is the canary's configured share of traffic, 0-100.
func (s Split) CanaryPercent() float64 {
	total := s.StableWeight + s.CanaryWeight
	if total <= 0 {
		return 0
	}
	return 100 * float64(s.CanaryWeight) / float64(total)
}

// StablePercent is the stable side's configured share, 0-100.
func (s Split) StablePercent() float64 {
	total := s.StableWeight + s.CanaryWeight
	if total <= 0 {
		return 0
	}
	return 100 - s.CanaryPercent()
}

// SameRouting reports whether two reads describe the same traffic split:
// the same two sides with the same shares. 95/5 and 190/10 are the same.
func (s Split) SameRouting(o Split) bool {
	if s.StableID != o.StableID || s.CanaryID != o.CanaryID {
		return false
	}
	return math.Abs(s.CanaryPercent()-o.CanaryPercent()) < 0.05 &&
		(s.StableWeight+s.CanaryWeight > 0) == (o.StableWeight+o.CanaryWeight > 0)
}

// WithCanaryPercent returns the split with weights set so the canary gets
// pct percent (rounded to whole weights out of 100).
func (s Split) WithCanaryPercent(pct float64) Split {
	c := int(math.Round(clampPercent(pct)))
	s.CanaryWeight = c
	s.StableWeight = 100 - c
	return s
}

// Swapped is the same routing seen with the sides exchanged.
func (s Split) Swapped() Split {
	s.StableID, s.CanaryID = s.CanaryID, s.StableID
	s.StableWeight, s.CanaryWeight = s.CanaryWeight, s.StableWeight
	return s
}

// String renders the split the way the screen and the audit log say it.
func (s Split) String() string {
	return fmt.Sprintf("stable %s / canary %s", FormatPercent(s.StablePercent()), FormatPercent(s.CanaryPercent()))
}

// FormatPercent prints a share without noise: 5%, 2.5%, 0.1%.
func FormatPercent(p float64) string {
	if p == math.Trunc(p) {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

func clampPercent(p float64) float64 {
	return math.Max(0, math.Min(100, p))
}
