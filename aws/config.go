// Package aws adapts aws-sdk-go-v2 clients to perch's model: the ALB router,
// batched CloudWatch metrics, alarms and caller identity. Each service is
// reached through an unexported interface holding exactly the SDK methods
// used, so tests can swap a client without a package-level variable.
package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// ConfigOptions are the AWS-CLI-style global flags.
type ConfigOptions struct {
	Profile     string
	Region      string
	EndpointURL string
	// Credentials overrides the default chain (the simulator and tests use
	// static credentials).
	Credentials awssdk.CredentialsProvider
	// MaxAttempts overrides the retryer's attempt count when > 0.
	MaxAttempts int
	// Logger receives the SDK's own warnings. The SDK's default writes to
	// stderr, which the cockpit owns: nil discards them instead.
	Logger *slog.Logger
	// CallTimeout bounds every operation, retries included; <= 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// MaxResponseBytes bounds every response body; <= 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// ErrNoRegion is returned when neither flags, environment nor profile name a
// region: requests would otherwise be signed for an empty region and fail in
// a confusing way.
var ErrNoRegion = errors.New("no AWS region: pass --region, set AWS_REGION, or add `region = ...` to the profile in ~/.aws/config")

// LoadConfig resolves an SDK config the way the AWS CLI does, with the flags
// taking precedence. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are
// honoured by the SDK itself.
func LoadConfig(ctx context.Context, o ConfigOptions) (awssdk.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		if err := ValidateEndpointURL(o.EndpointURL); err != nil {
			return awssdk.Config{}, err
		}
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	opts = append(opts, config.WithLogger(sdkLogger(o.Logger)))
	callTimeout, maxBody := o.CallTimeout, o.MaxResponseBytes
	if callTimeout <= 0 {
		callTimeout = DefaultCallTimeout
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}
	// As load options, so the clients the credential providers build
	// inside LoadDefaultConfig (STS, SSO) get them too.
	opts = append(opts, config.WithAPIOptions([]func(*middleware.Stack) error{withDeadline(callTimeout), withBodyLimit(maxBody)}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awssdk.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return awssdk.Config{}, ErrNoRegion
	}
	if cfg.BaseEndpoint != nil && o.EndpointURL == "" {
		// Came from AWS_ENDPOINT_URL or the profile: same rules apply.
		if err := ValidateEndpointURL(*cfg.BaseEndpoint); err != nil {
			return awssdk.Config{}, err
		}
	}
	return cfg, nil
}

// ValidateEndpointURL accepts http(s)://host[:port] with an optional path.
func ValidateEndpointURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("endpoint URL %q: want http(s)://host[:port]", s)
	}
	if p := u.Port(); p != "" && strings.Trim(p, "0123456789") != "" {
		return fmt.Errorf("endpoint URL %q: bad port", s)
	}
	return nil
}

// sdkLogger sends the SDK's log lines to a slog logger, never the terminal.
func sdkLogger(l *slog.Logger) logging.Logger {
	if l == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(class logging.Classification, format string, v ...any) {
		level := slog.LevelInfo
		if class == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
	})
}
