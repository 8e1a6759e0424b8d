package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// armedFault is a Fault with its After and For made absolute when armed.
type armedFault struct {
	Fault
	from, until time.Time
	// A rate fault's bucket: tokens left at last (simulated time).
	tokens float64
	last   time.Time
}

// armLocked fills in the defaults and the window, counted from at, and
// adds the fault. Called with s.mu held.
func (s *Sim) armLocked(f Fault, at time.Time, defaultMessage string) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Message == "" {
		f.Message = fmt.Sprintf("%s %s", defaultMessage, f.Code)
	}
	a := armedFault{Fault: f, from: at.Add(f.After.D())}
	a.tokens, a.last = float64(f.BurstOrDefault()), a.from
	if f.For > 0 {
		a.until = a.from.Add(f.For.D())
	}
	s.faults = append(s.faults, a)
}

// InjectFault arms a fault. Faults are checked in the order injected; a
// call fails with the first that matches. A faulted call is still
// counted in the stats: it reached the service.
func (s *Sim) InjectFault(f Fault) error {
	if err := f.Check(); err != nil {
		return fmt.Errorf("inject fault: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armLocked(f, s.clock.Now(), "injected fault")
	return nil
}

// ClearFaults disarms every fault and stops every drift.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.drifts = nil
}

// takeFault consumes one use of the first fault matching the call at now.
// Faults whose window has passed are dropped on the way. Called with s.mu
// held.
func (s *Sim) takeFault(service, op string, now time.Time) (Fault, bool) {
	for i := 0; i < len(s.faults); i++ {
		f := &s.faults[i]
		if !f.until.IsZero() && !now.Before(f.until) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			i--
			continue
		}
		if (f.Service != "" && f.Service != service) || (f.Operation != "" && f.Operation != op) || now.Before(f.from) {
			continue
		}
		if f.Fraction > 0 && f.Fraction < 1 && s.faultRandLocked().Float64() >= f.Fraction {
			continue
		}
		if f.Rate > 0 && f.take(now) {
			continue
		}
		out := f.Fault
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// take refills a rate fault's bucket to now and takes a token for the
// call, reporting whether there was one (the call passes).
func (f *armedFault) take(now time.Time) bool {
	if now.After(f.last) {
		f.tokens = min(float64(f.BurstOrDefault()), f.tokens+now.Sub(f.last).Seconds()*f.Rate)
		f.last = now
	}
	if f.tokens >= 1 {
		f.tokens--
		return true
	}
	return false
}

// faultRandLocked is the source fractional faults draw from: seeded, so
// a scenario with the same seed throttles the same calls.
func (s *Sim) faultRandLocked() *rand.Rand {
	if s.faultRand == nil {
		s.faultRand = rand.New(rand.NewPCG(uint64(s.seed), 0xfa017))
	}
	return s.faultRand
}

// applyFaultLocked answers the call with the first matching fault and
// reports whether it did; a latency-only fault delays the call and lets
// it through. Called with s.mu held; the lock is released while a
// latency runs so other calls are not held up behind it.
func (s *Sim) applyFaultLocked(w http.ResponseWriter, r *http.Request, reqID, service, op string) bool {
	f, ok := s.takeFault(service, op, s.clock.Now())
	if !ok {
		return false
	}
	if f.Code != "" {
		s.faulted[service+":"+op+":"+f.Code]++
	}
	s.log.Debug("sim: injected fault", "service", service, "operation", op, "code", f.Code, "latency", f.Latency.D(), "drop", f.Drop)
	if f.Latency > 0 {
		s.mu.Unlock()
		t := time.NewTimer(f.Latency.D())
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		s.mu.Lock()
		if r.Context().Err() != nil {
			return true // the client gave up: nobody to answer
		}
		s.advanceLocked(s.clock.Now())
	}
	switch {
	case f.Drop:
		// The server closes the connection without a response.
		panic(http.ErrAbortHandler)
	case f.Code != "":
		awsproto.WriteFault(w, r, reqID, &awsproto.Error{Status: f.HTTPStatus(), Code: f.Code, Message: f.Message})
		return true
	}
	return false
}

// ApplyFaultSpec arms what the spec describes, starting now.
func (s *Sim) ApplyFaultSpec(f FaultSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applySpecLocked(f, s.clock.Now())
}

func (s *Sim) applySpecLocked(f FaultSpec, at time.Time) error {
	if f.Kind == "drift" {
		return s.injectDriftLocked(Drift{Target: f.Target, Every: Duration(f.Duration)}, at)
	}
	faults := f.Faults()
	if len(faults) == 0 {
		return fmt.Errorf("apply fault %s: nothing to arm", f)
	}
	for _, ft := range faults {
		if err := ft.Check(); err != nil {
			return fmt.Errorf("apply fault %s: %w", f, err)
		}
	}
	for _, ft := range faults {
		s.armLocked(ft, at, "injected fault")
	}
	return nil
}

// armScheduledLocked arms a scenario's fault at its time.
func (s *Sim) armScheduledLocked(sf ScheduledFault) {
	at := s.start.Add(sf.At.D())
	if sf.Spec == "" {
		s.armLocked(sf.Fault, at, "scripted fault")
		return
	}
	// The scenario was validated, so the spec parses; a drift on a
	// target the scenario lacks is all that can fail here.
	spec, err := ParseFaultSpec(sf.Spec)
	if err == nil {
		err = s.applySpecLocked(spec, at)
	}
	if err != nil {
		s.log.Warn("sim: scenario fault", "spec", sf.Spec, "err", err)
	}
}

// serveFaults handles /_sim/faults: POST a Fault as JSON, or
// ?spec=SPEC, to arm it; DELETE to clear all; GET to list what is armed.
func (s *Sim) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		if spec := r.URL.Query().Get("spec"); spec != "" {
			fs, err := ParseFaultSpec(spec)
			if err == nil {
				err = s.ApplyFaultSpec(fs)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var f Fault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "decode fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.InjectFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		s.mu.Lock()
		faults := make([]Fault, len(s.faults))
		for i, f := range s.faults {
			faults[i] = f.Fault
		}
		drifts := make([]Drift, len(s.drifts))
		for i, d := range s.drifts {
			drifts[i] = d.Drift
		}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"faults": faults, "drifts": drifts})
	default:
		http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
	}
}
