package aws

import (
	"context"
	"sort"
	"strings"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts the AWS API requests of every client built from a
// config it is attached to, by "ServiceID:Operation". Retries count: each
// attempt is a request AWS sees, meters and may bill.
type CallCounter struct {
	mu     sync.Mutex
	n      map[string]int64
	failed map[string]int64
}

// NewCallCounter returns a counter at zero.
func NewCallCounter() *CallCounter {
	return &CallCounter{n: map[string]int64{}, failed: map[string]int64{}}
}

// Attach makes every client built from cfg from now on count its calls.
func (c *CallCounter) Attach(cfg *awssdk.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		// After the retry middleware, so that each attempt is counted.
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("perchCallCount",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				key := awsmiddleware.GetServiceID(ctx) + ":" + awsmiddleware.GetOperationName(ctx)
				c.add(key)
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					c.fail(key)
				}
				return out, md, err
			}), middleware.After)
	})
}

func (c *CallCounter) add(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

func (c *CallCounter) fail(key string) {
	c.mu.Lock()
	c.failed[key]++
	c.mu.Unlock()
}

// Failed returns how many attempts failed so far, by operation: an error
// AWS answered, or a transport error the SDK then retried (a connection
// closed while its answer was read: aws-sdk-go-v2#1825). Such an attempt
// may have reached AWS, and been counted there, before it failed.
func (c *CallCounter) Failed() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.failed))
	for k, v := range c.failed {
		out[k] = v
	}
	return out
}

// Counts returns a copy of the counts so far.
func (c *CallCounter) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// CallTotals sums counts: every call, and the CloudWatch calls other than
// GetMetricData (CloudWatch bills those per 1,000 requests, while
// GetMetricData is billed per metric requested instead).
func CallTotals(counts map[string]int64) (all, cloudWatchRequests int64) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		all += counts[k]
		if len(k) > len("CloudWatch:") && k[:len("CloudWatch:")] == "CloudWatch:" && k != "CloudWatch:GetMetricData" {
			cloudWatchRequests += counts[k]
		}
	}
	return all, cloudWatchRequests
}

// CallsByService sums counts by service, under short names (elbv2,
// cloudwatch, lambda, codedeploy, ecs, sts; others as the SDK names them).
func CallsByService(counts map[string]int64) map[string]int64 {
	short := map[string]string{"Elastic Load Balancing v2": "elbv2", "CloudWatch": "cloudwatch", "Lambda": "lambda", "CodeDeploy": "codedeploy", "ECS": "ecs", "STS": "sts"}
	out := map[string]int64{}
	for k, v := range counts {
		svc, _, _ := strings.Cut(k, ":")
		if s, ok := short[svc]; ok {
			svc = s
		}
		out[svc] += v
	}
	return out
}
