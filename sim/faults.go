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

// Fault makes matching API calls fail, so tests (and demos) can show what
// perch does when AWS throttles, errors, or the credentials expire.
type Fault struct {
	// Service is the stats name ("elbv2", "sts", "cloudwatch", ...); ""
	// matches every service.
	Service string `json:"service,omitempty" yaml:"service"`
	// Operation, e.g. "ModifyRule"; "" matches every operation.
	Operation string `json:"operation,omitempty" yaml:"operation"`
	// Code is the wire error code: "Throttling", "InternalFailure",
	// "ServiceUnavailable", "ExpiredToken", "AccessDenied", ...
	Code string `json:"code" yaml:"code"`
	// Status is the HTTP status; 0 picks a plausible one for the code.
	Status int `json:"status,omitempty" yaml:"status"`
	// Message defaults to a sentence naming the injected fault.
	Message string `json:"message,omitempty" yaml:"message"`
	// Times is how many matching calls fail: 0 means once, a negative
	// value means until ClearFaults.
	Times int `json:"times,omitempty" yaml:"times"`

	// Fraction, between 0 and 1, fails only that share of matching calls,
	// drawn from the simulator's seeded random source so a run repeats;
	// 0 or 1 fails every one.
	Fraction float64 `json:"fraction,omitempty" yaml:"fraction"`
	// Latency holds each matching call this long on the wall clock before
	// it is answered: with the fault's error when Code is set, else
	// normally. The wait is real because it is the client's deadlines
	// that it tests.
	Latency Duration `json:"latency,omitempty" yaml:"latency"`
	// Drop closes the connection without an answer, as a network outage
	// does: the SDK sees a transport error, not an AWS error.
	Drop bool `json:"drop,omitempty" yaml:"drop"`
	// After defers the fault: armed now, it applies from this much
	// simulated time later (credentials that expire in an hour).
	After Duration `json:"after,omitempty" yaml:"after"`
	// For ends the fault this much simulated time after it starts to
	// apply; 0 means never.
	For Duration `json:"for,omitempty" yaml:"for"`

	// from and until are After and For made absolute when armed.
	from, until time.Time
}

// check rejects a fault that could never do anything or would do
// something undefined.
func (f Fault) check() error {
	switch {
	case f.Code == "" && f.Latency <= 0 && !f.Drop:
		return fmt.Errorf("a fault needs a code, a latency or drop")
	case f.Code != "" && !awsproto.IsParamName(f.Code):
		return fmt.Errorf("code %q is not an error code such as Throttling", f.Code)
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d is not an HTTP error status (400..599)", f.Status)
	case f.Times < -1:
		return fmt.Errorf("times %d: use a positive count, or -1 for until cleared", f.Times)
	case !(f.Fraction >= 0 && f.Fraction <= 1):
		return fmt.Errorf("fraction %v is out of range (0..1)", f.Fraction)
	case f.Latency < 0 || f.Latency.D() > 10*time.Minute:
		return fmt.Errorf("latency %s is out of range (0s..10m)", f.Latency.D())
	case f.After < 0 || f.For < 0:
		return fmt.Errorf("after and for must not be negative")
	}
	if f.Service != "" {
		known := false
		for _, n := range serviceNames {
			known = known || f.Service == n
		}
		if !known {
			return fmt.Errorf("unknown service %q (elbv2, sts, cloudwatch, lambda, codedeploy)", f.Service)
		}
	}
	return nil
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
	f.from = at.Add(f.After.D())
	if f.For > 0 {
		f.until = f.from.Add(f.For.D())
	}
	s.faults = append(s.faults, f)
}

func (f Fault) status() int {
	if f.Status != 0 {
		return f.Status
	}
	switch f.Code {
	case "InternalFailure", "InternalError", "InternalServiceError", "ServiceException":
		return 500
	case "ServiceUnavailable":
		return 503
	case "ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException":
		return 403
	case "TooManyRequestsException":
		return 429
	}
	return 400
}

// InjectFault arms a fault. Faults are checked in the order injected; a
// call fails with the first that matches. A faulted call is still
// counted in the stats: it reached the service.
func (s *Sim) InjectFault(f Fault) error {
	if err := f.check(); err != nil {
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
		out := *f
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
		awsproto.WriteFault(w, r, reqID, &awsproto.Error{Status: f.status(), Code: f.Code, Message: f.Message})
		return true
	}
	return false
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
		faults := append([]Fault{}, s.faults...)
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

// MarshalJSON writes a Duration as "1m30s", the way it is written in YAML.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1m30s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want a string such as \"30s\" or nanoseconds")
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
