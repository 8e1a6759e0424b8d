package sim

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/perch-dev/perch/sim/awsproto"
)

// Regions is one account's simulated regions behind one endpoint: a Sim
// per region, each with its own state, stats and faults (an API rate
// limit is per account and region), sharing the clock. A request goes to
// the region of its SigV4 credential scope, as AWS's regional endpoints
// split them; an unsigned one to the first region.
//
// Control paths take ?region=NAME; without it /_sim/stats sums every
// region and the rest go to the first.
type Regions struct {
	order []string
	sims  map[string]*Sim
}

// NewRegions builds a Sim for each region from opts (its Region
// replaced), each seeded with the scenario scenarioFor returns for it
// (nil: opts.Scenario).
func NewRegions(opts Options, regions []string, scenarioFor func(region string) (*Scenario, error)) (*Regions, error) {
	if len(regions) == 0 {
		return nil, fmt.Errorf("regions: none given")
	}
	m := &Regions{sims: map[string]*Sim{}}
	for _, r := range regions {
		if _, dup := m.sims[r]; dup {
			return nil, fmt.Errorf("regions: %s given twice", r)
		}
		o := opts
		o.Region = r
		if scenarioFor != nil {
			sc, err := scenarioFor(r)
			if err != nil {
				return nil, fmt.Errorf("region %s: %w", r, err)
			}
			o.Scenario = sc
		}
		s, err := New(o)
		if err != nil {
			return nil, fmt.Errorf("region %s: %w", r, err)
		}
		m.order = append(m.order, r)
		m.sims[r] = s
	}
	return m, nil
}

// Names are the regions in the order given.
func (m *Regions) Names() []string { return slices.Clone(m.order) }

// Sim is one region's simulator; nil for a region not simulated.
func (m *Regions) Sim(region string) *Sim { return m.sims[region] }

// Handler routes each request to its region's Sim.
func (m *Regions) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region := r.URL.Query().Get("region")
		if region == "" {
			region = awsproto.ScopeRegion(r.Header.Get("Authorization"))
		}
		if region == "" && r.URL.Path == "/_sim/stats" && r.Method == http.MethodGet {
			m.serveStats(w)
			return
		}
		if region == "" && r.URL.Path == "/_sim/stats/reset" && r.Method == http.MethodPost {
			for _, s := range m.sims {
				s.ResetStats()
			}
			writeJSON(w, map[string]any{"calls": map[string]int{}})
			return
		}
		if region == "" {
			region = m.order[0]
		}
		s := m.sims[region]
		if s == nil {
			// AWS has no such endpoint in this account's simulated world:
			// a client pointed at it fails as it would on a disabled region.
			awsproto.WriteUnknown(w, r, "sim-no-region", awsproto.SenderErr("UnrecognizedClientException",
				"the simulator has no region %q (it has %v)", region, m.order))
			return
		}
		s.Handler().ServeHTTP(w, r)
	})
}

// serveStats sums every region's calls and faulted calls, and gives each
// region's own under "regions".
func (m *Regions) serveStats(w http.ResponseWriter) {
	calls, faulted := map[string]int{}, map[string]int{}
	per := map[string]any{}
	for _, r := range m.order {
		c, f := m.sims[r].Stats(), m.sims[r].Faulted()
		for k, v := range c {
			calls[k] += v
		}
		for k, v := range f {
			faulted[k] += v
		}
		per[r] = map[string]any{"calls": c, "faulted": f}
	}
	writeJSON(w, map[string]any{"calls": calls, "faulted": faulted, "regions": per})
}
