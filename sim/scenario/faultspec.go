package scenario

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultSpec is one `perch sim --fault SPEC`, parsed:
//
//	throttle:SERVICE:FRACTION    that share of calls is throttled
//	rate:SERVICE:N/s             calls beyond N a second (simulated time) are throttled
//	error:SERVICE:FRACTION       that share of calls fails with a 500
//	latency:SERVICE:DURATION     every call waits that long (wall clock)
//	outage:SERVICE:DURATION      every call's connection drops, from now for that long
//	expire-credentials:AFTER     every call fails with ExpiredToken from AFTER on
//	drift:TARGET:EVERY           another operator moves TARGET's weights every EVERY
//
// SERVICE is elbv2, cloudwatch, lambda, codedeploy, sts or all.
type FaultSpec struct {
	Kind    string // throttle, rate, error, latency, outage, expire-credentials, drift
	Service string // "all" for every service; empty for expire-credentials and drift
	// Fraction is for throttle and error.
	Fraction float64
	// Rate is for rate: calls a second.
	Rate float64
	// Duration is the latency, the outage's length, expire-credentials'
	// AFTER or drift's EVERY.
	Duration time.Duration
	// Target is for drift: a manifest target's name.
	Target string
}

// serviceNames are the short names a Fault's Service may be: the stats
// names of the simulated services.
var serviceNames = []string{"elbv2", "sts", "cloudwatch", "lambda", "codedeploy", "account", "ecs", "logs"}

// FaultServices are the SERVICE names a spec accepts besides "all".
var FaultServices = []string{"elbv2", "cloudwatch", "lambda", "codedeploy", "ecs", "logs", "sts"}

// Bounds a spec is checked against: beyond them a typo is likelier than
// an intent.
const (
	maxSpecLen     = 200
	maxSpecLatency = 10 * time.Minute
	maxSpecOutage  = 7 * 24 * time.Hour
	maxSpecAfter   = 7 * 24 * time.Hour
	minDriftEvery  = time.Second
	maxDriftEvery  = 24 * time.Hour
)

var specTarget = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

const specGrammar = "throttle|error:SERVICE:FRACTION, rate:SERVICE:N/s, latency|outage:SERVICE:DURATION, expire-credentials:AFTER or drift:TARGET:EVERY"

// ParseFaultSpec parses one SPEC strictly; errors are one line.
func ParseFaultSpec(s string) (FaultSpec, error) {
	if len(s) > maxSpecLen {
		return FaultSpec{}, fmt.Errorf("fault %q: longer than %d characters", clip(s), maxSpecLen)
	}
	bad := func(format string, a ...any) (FaultSpec, error) {
		return FaultSpec{}, fmt.Errorf("fault %q: %s", clip(s), fmt.Sprintf(format, a...))
	}
	parts := strings.Split(s, ":")
	kind := parts[0]
	want := 3
	if kind == "expire-credentials" {
		want = 2
	}
	switch kind {
	case "throttle", "rate", "error", "latency", "outage", "expire-credentials", "drift":
	default:
		if len(parts) == 1 {
			return bad("want %s", specGrammar)
		}
		return bad("unknown kind %q: want %s", clip(kind), specGrammar)
	}
	if len(parts) != want {
		return bad("want %d fields separated by ':', got %d (%s)", want, len(parts), specGrammar)
	}
	spec := FaultSpec{Kind: kind}
	switch kind {
	case "throttle", "rate", "error", "latency", "outage":
		svc := parts[1]
		if svc != "all" && !slices.Contains(FaultServices, svc) {
			return bad("unknown service %q: want %s or all", clip(svc), strings.Join(FaultServices, ", "))
		}
		spec.Service = svc
	case "drift":
		if !specTarget.MatchString(parts[1]) {
			return bad("target %q: want a target name from the simulator's manifest", clip(parts[1]))
		}
		spec.Target = parts[1]
	}
	last := parts[len(parts)-1]
	switch kind {
	case "throttle", "error":
		f, err := strconv.ParseFloat(last, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 1 {
			return bad("fraction %q: want a number above 0 and at most 1, such as 0.5", clip(last))
		}
		spec.Fraction = f
		return spec, nil
	case "rate":
		n, ok := strings.CutSuffix(last, "/s")
		f, err := strconv.ParseFloat(n, 64)
		if !ok || err != nil || math.IsNaN(f) || f <= 0 || f > MaxRate {
			return bad("rate %q: want calls a second above 0 and at most %d, such as 10/s", clip(last), MaxRate)
		}
		spec.Rate = f
		return spec, nil
	}
	d, err := time.ParseDuration(last)
	if err != nil {
		return bad("duration %q: want a Go duration such as 30s or 5m", clip(last))
	}
	var lo, hi time.Duration
	switch kind {
	case "latency":
		lo, hi = time.Millisecond, maxSpecLatency
	case "outage":
		lo, hi = time.Second, maxSpecOutage
	case "expire-credentials":
		lo, hi = 0, maxSpecAfter
	case "drift":
		lo, hi = minDriftEvery, maxDriftEvery
	}
	if d < lo || d > hi {
		return bad("duration %s is out of range (%s..%s)", d, lo, hi)
	}
	spec.Duration = d
	return spec, nil
}

// clip keeps an echoed input short enough for a one-line error.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

// String is the spec in the form ParseFaultSpec reads.
func (f FaultSpec) String() string {
	switch f.Kind {
	case "throttle", "error":
		return f.Kind + ":" + f.Service + ":" + strconv.FormatFloat(f.Fraction, 'g', -1, 64)
	case "rate":
		return f.Kind + ":" + f.Service + ":" + strconv.FormatFloat(f.Rate, 'g', -1, 64) + "/s"
	case "latency", "outage":
		return f.Kind + ":" + f.Service + ":" + f.Duration.String()
	case "expire-credentials":
		return f.Kind + ":" + f.Duration.String()
	case "drift":
		return f.Kind + ":" + f.Target + ":" + f.Duration.String()
	}
	return f.Kind
}

// Faults turns the spec into the Faults it arms (one per service where
// services answer in different shapes); drift arms none.
func (f FaultSpec) Faults() []Fault {
	services := []string{f.Service}
	if f.Service == "all" || f.Service == "" {
		services = FaultServices
	}
	var out []Fault
	for _, svc := range services {
		base := Fault{Service: svc, Times: -1, Message: "fault " + f.String()}
		switch f.Kind {
		case "throttle":
			base.Code, base.Status = throttleCode(svc)
			base.Message = "Rate exceeded"
			base.Fraction = f.Fraction
		case "rate":
			// One bucket per service: each service's limit is its own.
			base.Code, base.Status = throttleCode(svc)
			base.Message = "Rate exceeded"
			base.Rate = f.Rate
		case "error":
			base.Code, base.Status = internalCode(svc), 500
			base.Message = "We encountered an internal error. Please try again."
			base.Fraction = f.Fraction
		case "latency":
			base.Latency = Duration(f.Duration)
		case "outage":
			base.Drop = true
			base.For = Duration(f.Duration)
		case "expire-credentials":
			base.Code, base.Status = expiredCode(svc), 403
			base.Message = "The security token included in the request is expired"
			base.After = Duration(f.Duration)
		default:
			return nil
		}
		out = append(out, base)
	}
	return out
}

// throttleCode is what each service really answers when it throttles.
func throttleCode(service string) (string, int) {
	switch service {
	case "lambda":
		return "TooManyRequestsException", 429
	case "codedeploy", "ecs", "logs":
		return "ThrottlingException", 400
	}
	return "Throttling", 400
}

func internalCode(service string) string {
	switch service {
	case "lambda":
		return "ServiceException"
	case "codedeploy":
		return "InternalFailure"
	case "ecs":
		return "ServerException"
	}
	return "InternalFailure"
}

func expiredCode(service string) string {
	switch service {
	case "lambda", "codedeploy", "ecs", "logs":
		return "ExpiredTokenException"
	}
	return "ExpiredToken"
}
