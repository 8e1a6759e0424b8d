// Package ids makes the identifiers the simulator hands out (ARN suffixes,
// instance IDs, request IDs, revision IDs) deterministic: each comes from
// a random stream seeded by the scenario's seed, so the same scenario and
// seed always give the same answers.
package ids

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Source hands out the hex IDs AWS puts at the end of ARNs, derived from
// the seed and a name (an ALB's, a deployment group's) so the same
// scenario and seed always give the same ARNs, whatever else the scenario
// contains.
type Source struct{ r *rand.Rand }

// NewSource is the stream for name under seed.
func NewSource(seed int64, name string) Source {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return Source{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// Hex16 is 16 hex digits, as at the end of an ELBv2 ARN.
func (s Source) Hex16() string { return fmt.Sprintf("%016x", s.r.Uint64()) }

// Instance is an EC2 instance ID.
func (s Source) Instance() string {
	return fmt.Sprintf("i-0%016x", s.r.Uint64())
}

// UUID is a UUID-shaped ID from the stream.
func (s Source) UUID() string { return UUID(s.r) }

// Rand is the stream itself, for IDs of other shapes.
func (s Source) Rand() *rand.Rand { return s.r }

// UUID returns a UUID-shaped (version 4) ID drawn from r.
func UUID(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}
