package aws

import (
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// cloudWatchMaxAttempts is higher than the SDK's 3: GetMetricData is
// throttled per account and region (shared with every dashboard), every
// call perch makes to CloudWatch is a read, and a poll that gives up
// leaves the charts stale for a whole poll interval.
const cloudWatchMaxAttempts = 5

// newCloudWatch builds the CloudWatch client every reader here shares the
// shape of: adaptive retries, which slow perch's own sending down after a
// throttle instead of retrying into it, unless the user chose a retry
// mode or retryer themselves (AWS_RETRY_MODE, the profile's retry_mode,
// config.WithRetryer). AWS_MAX_ATTEMPTS still caps the attempts.
func newCloudWatch(cfg awssdk.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		if cfg.Retryer != nil || cfg.RetryMode != "" {
			return
		}
		o.Retryer = retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
			ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
				so.MaxAttempts = cloudWatchMaxAttempts
			})
		})
	})
}
