package aws

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// NotFoundError says which perch-named resource AWS could not find. The
// SDK's typed errors carry only AWS's generic message ("One or more rules
// not found"), so the adapters wrap them with the identifier they asked for.
type NotFoundError struct {
	Kind string // rule, listener, target group, load balancer
	ID   string
	Err  error
}

func (e *NotFoundError) Error() string { return e.Kind + " not found: " + e.ID }
func (e *NotFoundError) Unwrap() error { return e.Err }

// Codes AWS uses when the credentials, not the request, are at fault.
var credentialCodes = map[string]bool{
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"InvalidClientTokenId":        true,
	"SignatureDoesNotMatch":       true,
	"UnrecognizedClientException": true,
	"InvalidAccessKeyId":          true,
	"AuthFailure":                 true,
	"IncompleteSignature":         true,
	"MissingAuthenticationToken":  true,
	"InvalidSignatureException":   true,
	"RequestExpired":              true,
}

var throttleCodes = map[string]bool{
	"Throttling":                true,
	"ThrottlingException":       true,
	"ThrottledException":        true,
	"RequestThrottled":          true,
	"RequestThrottledException": true,
	"TooManyRequestsException":  true,
	"RequestLimitExceeded":      true,
	"PriorRequestNotComplete":   true,
	"SlowDown":                  true,
	"LimitExceededException":    true,
}

var accessDeniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
	"Forbidden":             true,
}

// DescribeError turns an error from this package (or the SDK) into one line
// a person can act on. It never includes credentials: the SDK's errors do
// not carry them and only codes, messages and endpoints are quoted.
func DescribeError(err error) string { return DescribeErrorWithProfile(err, "") }

// DescribeErrorWithProfile is DescribeError naming the profile to log in
// with when credentials are the problem.
func DescribeErrorWithProfile(err error, profile string) string {
	if err == nil {
		return ""
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nf.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out waiting for AWS" + endpointSuffix(err)
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "cannot reach " + endpointOf(err) + ": connection refused"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "cannot reach " + endpointOf(err) + ": no such host " + dnsErr.Name
	}
	login := "aws sso login"
	if profile != "" {
		login += " --profile " + profile
	}
	refresh := "run `" + login + "` or refresh them"
	credMsg := "AWS credentials expired or invalid: " + refresh
	var ssoErr *ssocreds.InvalidTokenError
	if errors.As(err, &ssoErr) {
		return credMsg
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case credentialCodes[code]:
			return credMsg
		case accessDeniedCodes[code]:
			return "access denied" + operationSuffix(err) + ": " + oneLine(api.ErrorMessage())
		case throttleCodes[code]:
			return "AWS is throttling requests" + operationSuffix(err) + " (" + code + "); perch will retry more slowly"
		}
		if kind := notFoundKind(err); kind != "" {
			return kind + " not found" + operationSuffix(err) + ": " + oneLine(api.ErrorMessage())
		}
		msg := oneLine(api.ErrorMessage())
		if msg == "" {
			return code + operationSuffix(err)
		}
		return code + operationSuffix(err) + ": " + msg
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") ||
		strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return "no usable AWS credentials: " + refresh
	}
	return oneLine(err.Error())
}

func notFoundKind(err error) string {
	var (
		rule *elbtypes.RuleNotFoundException
		lis  *elbtypes.ListenerNotFoundException
		tg   *elbtypes.TargetGroupNotFoundException
		lb   *elbtypes.LoadBalancerNotFoundException
	)
	switch {
	case errors.As(err, &rule):
		return "rule"
	case errors.As(err, &lis):
		return "listener"
	case errors.As(err, &tg):
		return "target group"
	case errors.As(err, &lb):
		return "load balancer"
	}
	return ""
}

func operationSuffix(err error) string {
	var op *smithy.OperationError
	if errors.As(err, &op) {
		return " (" + op.Operation() + ")"
	}
	return ""
}

func endpointOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil {
		return oe.Addr.String()
	}
	return "AWS endpoint"
}

func endpointSuffix(err error) string {
	if e := endpointOf(err); e != "AWS endpoint" {
		return " at " + e
	}
	return ""
}

// oneLine keeps a status line a status line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// wrapNotFound attaches the asked-for identifier to AWS's not-found errors.
func wrapNotFound(err error, kind, id string) error {
	if notFoundKind(err) == kind {
		return &NotFoundError{Kind: kind, ID: id, Err: err}
	}
	return err
}
