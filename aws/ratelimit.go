package aws

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/perch-dev/perch/clock"
)

// Rate is a token bucket: Per calls a second, Burst at once.
type Rate struct {
	Per   float64
	Burst int
}

// ServiceRates are one service's budgets: reads, and writes apart, so
// that a rollback never waits behind a fleet's reads.
type ServiceRates struct{ Read, Write Rate }

// DefaultRates are perch's budget per service, account and region, by
// the SDK's ServiceID: about a third of AWS's documented or commonly
// observed limits, which every other client in the account (the deploy
// pipeline, the console, the autoscaler) shares.
//
//	ELBv2       no published figure; Describe* throttle at about 10-20/s
//	CloudWatch  GetMetricData 50/s, DescribeAlarms 9/s (documented quotas)
//	Lambda      control plane 15/s per account and region (documented)
//	CodeDeploy  no published figure; about 10/s observed
//	ECS         read actions 20/s sustained, bursts of 50 (documented for
//	            cluster reads; service deployment reads are of that order)
//	STS         600/s: left unlimited
var DefaultRates = map[string]ServiceRates{
	"Elastic Load Balancing v2": {Read: Rate{4, 8}, Write: Rate{2, 4}},
	"CloudWatch":                {Read: Rate{3, 6}, Write: Rate{1, 2}},
	"Lambda":                    {Read: Rate{5, 10}, Write: Rate{2, 4}},
	"CodeDeploy":                {Read: Rate{3, 6}, Write: Rate{1, 2}},
	"ECS":                       {Read: Rate{5, 10}, Write: Rate{1, 2}},
}

// RateLimiter holds the buckets of one AWS config (one account and
// region): attached to a config, every client built from it waits for a
// token before each attempt, retries included.
type RateLimiter struct {
	clock clock.Clock
	rates map[string]ServiceRates

	mu      sync.Mutex
	buckets map[string]*bucket // "ServiceID read" / "ServiceID write"
}

// NewRateLimiter limits by rates (nil: DefaultRates); services it does
// not name are not limited.
func NewRateLimiter(clk clock.Clock, rates map[string]ServiceRates) *RateLimiter {
	if rates == nil {
		rates = DefaultRates
	}
	return &RateLimiter{clock: clk, rates: rates, buckets: map[string]*bucket{}}
}

// Attach makes every client built from cfg from now on wait for its
// service's budget.
func (l *RateLimiter) Attach(cfg *awssdk.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		// In Finalize after the retry middleware: each attempt costs a token.
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("perchRateLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := l.Wait(ctx, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.Before)
	})
}

// IsWrite says whether an operation changes something: those have their
// own budget.
func IsWrite(op string) bool {
	for _, p := range []string{"Modify", "Update", "Stop", "Continue", "Set", "Put", "Add", "Remove", "Create", "Delete", "Register", "Deregister"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// Wait takes a token for one call of op, waiting on the clock for one if
// the bucket is empty; ctx ending stops the wait.
func (l *RateLimiter) Wait(ctx context.Context, service, op string) error {
	b := l.bucket(service, IsWrite(op))
	if b == nil {
		return nil
	}
	for {
		wait := b.take(l.clock.Now())
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for perch's %s budget: %w", service, ctx.Err())
		case <-l.clock.After(wait):
		}
	}
}

func (l *RateLimiter) bucket(service string, write bool) *bucket {
	r, ok := l.rates[service]
	if !ok {
		return nil
	}
	rate, key := r.Read, service+" read"
	if write {
		rate, key = r.Write, service+" write"
	}
	if rate.Per <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{rate: rate, tokens: float64(max(rate.Burst, 1))}
		l.buckets[key] = b
	}
	return b
}

type bucket struct {
	mu     sync.Mutex
	rate   Rate
	tokens float64
	last   time.Time
}

// take refills to now and takes a token, or says how long until one.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(float64(max(b.rate.Burst, 1)), b.tokens+now.Sub(b.last).Seconds()*b.rate.Per)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate.Per * float64(time.Second))
}

// ParseRates reads --api-rate values: "off", or SERVICE=READS[/WRITES]
// with SERVICE one of elbv2, cloudwatch, lambda, codedeploy, ecs and rates in
// calls a second (the burst is two seconds' worth). Unnamed services keep
// their defaults.
func ParseRates(specs []string) (map[string]ServiceRates, error) {
	out := map[string]ServiceRates{}
	for k, v := range DefaultRates {
		out[k] = v
	}
	short := map[string]string{"elbv2": "Elastic Load Balancing v2", "cloudwatch": "CloudWatch", "lambda": "Lambda", "codedeploy": "CodeDeploy", "ecs": "ECS"}
	for _, s := range specs {
		if s == "off" {
			return map[string]ServiceRates{}, nil
		}
		name, val, ok := strings.Cut(s, "=")
		id, known := short[name]
		if !ok || !known {
			return nil, fmt.Errorf("--api-rate %q: want off or SERVICE=READS[/WRITES], SERVICE one of %s", s, strings.Join(sortedKeys(short), ", "))
		}
		r, w, hasW := strings.Cut(val, "/")
		reads, err := strconv.ParseFloat(r, 64)
		if err != nil || !(reads > 0 && reads <= 1000) {
			return nil, fmt.Errorf("--api-rate %q: reads a second must be above 0 and at most 1000", s)
		}
		sr := out[id]
		sr.Read = Rate{reads, max(1, int(2*reads))}
		if hasW {
			writes, err := strconv.ParseFloat(w, 64)
			if err != nil || !(writes > 0 && writes <= 1000) {
				return nil, fmt.Errorf("--api-rate %q: writes a second must be above 0 and at most 1000", s)
			}
			sr.Write = Rate{writes, max(1, int(2*writes))}
		}
		out[id] = sr
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
