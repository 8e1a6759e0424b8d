package scenario

import (
	"fmt"
	"math"
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

	// Rate, when above 0, makes the fault a token bucket: matching calls
	// pass at up to Rate a second of simulated time (after a burst of
	// Burst, default one second's worth) and only the calls beyond it get
	// the fault, as an AWS API's per-account rate limit does.
	Rate  float64 `json:"rate,omitempty" yaml:"rate"`
	Burst int     `json:"burst,omitempty" yaml:"burst"`
}

// MaxRate bounds a rate fault: beyond it no throttle is felt.
const MaxRate = 100000

// BurstOrDefault is the bucket's size: Burst, or one second of Rate
// (at least 1).
func (f Fault) BurstOrDefault() int {
	if f.Burst > 0 {
		return f.Burst
	}
	return max(1, int(math.Ceil(f.Rate)))
}

// Check rejects a fault that could never do anything or would do
// something undefined.
func (f Fault) Check() error {
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
	case !(f.Rate >= 0 && f.Rate <= MaxRate) || f.Burst < 0 || f.Burst > MaxRate:
		return fmt.Errorf("rate %v (burst %d) is out of range (0..%d a second)", f.Rate, f.Burst, MaxRate)
	case f.Rate > 0 && f.Code == "":
		return fmt.Errorf("a rate fault needs a code to answer calls over the rate with")
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

// HTTPStatus is the status the fault answers with: Status, or one
// plausible for the code.
func (f Fault) HTTPStatus() int {
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
