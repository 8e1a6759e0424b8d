package aws

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

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
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &tooLarge) {
		return "AWS sent a response" + operationSuffix(err) + " over perch's " + strconv.FormatInt(tooLarge.Limit>>20, 10) + " MiB limit: refused"
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
			return accessDenied(err, api)
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
		return noCredentials(err, profile)
	}
	return oneLine(err.Error())
}

// iamPrefix is each service's IAM action prefix, by the SDK's service ID.
var iamPrefix = map[string]string{
	"Elastic Load Balancing v2": "elasticloadbalancing",
	"CloudWatch":                "cloudwatch",
	"Lambda":                    "lambda",
	"CodeDeploy":                "codedeploy",
	"STS":                       "sts",
	"ECS":                       "ecs",
	"CloudWatch Logs":           "logs",
	"Account":                   "account",
}

// accessDenied names the IAM action that is missing, so the fix is one
// line in a policy (docs/iam.md has perch's).
func accessDenied(err error, api smithy.APIError) string {
	var op *smithy.OperationError
	if errors.As(err, &op) {
		action := op.Operation()
		if p := iamPrefix[op.Service()]; p != "" {
			action = p + ":" + action
		}
		return "access denied: the credentials lack IAM permission " + action + " (perch's policies are in docs/iam.md): " + oneLine(api.ErrorMessage())
	}
	return "access denied: " + oneLine(api.ErrorMessage()) + " (perch's IAM policies are in docs/iam.md)"
}

// noCredentials says where the SDK's default chain looked, in the order
// it looks, and how to give it something.
func noCredentials(err error, profile string) string {
	where := "the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE), ~/.aws/credentials and ~/.aws/config"
	if profile != "" {
		where += " (profile " + profile + ")"
	}
	where += ", SSO, container and instance credentials"
	fix := "run `aws configure`, or `aws sso login` for an SSO profile"
	if profile != "" {
		fix = "run `aws sso login --profile " + profile + "`, or check that profile in ~/.aws/config"
	}
	msg := "no AWS credentials found: perch looked in " + where + "; " + fix
	if errors.Is(err, context.DeadlineExceeded) {
		msg += " (the instance metadata service did not answer)"
	}
	return msg
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

// maxErrRunes bounds one described error. It is applied after ARNs are
// shortened, and cuts the middle: in a wrapped error the cause is at the
// end, and the operation at the start.
const maxErrRunes = 300

// oneLine keeps a status line a status line: one line of at most
// maxErrRunes runes. A longer one first has its ARNs cut to the part a
// person recognises, then loses its middle.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxErrRunes {
		return s
	}
	s = shortenARNs(s)
	r := []rune(s)
	if len(r) <= maxErrRunes {
		return s
	}
	const head = 80
	return string(r[:head]) + " … " + string(r[len(r)-(maxErrRunes-head-3):])
}

// arnRE finds ARNs in AWS's messages, which quote them in full.
var arnRE = regexp.MustCompile(`arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:[^\s"'(),;\]]+`)

// shortenARNs replaces each ARN in s by its resource, without the
// partition, service, region and account (the header says those), and
// without the generated IDs in the middle of its path:
// arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
// becomes listener-rule/app/shop/…/9683b2d02a6cabee. An error that quotes
// two of them then still has room for the reason after them.
func shortenARNs(s string) string {
	return arnRE.ReplaceAllStringFunc(s, func(arn string) string {
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) < 6 || parts[5] == "" {
			return arn
		}
		segs := strings.Split(parts[5], "/")
		out := make([]string, 0, len(segs))
		for i, seg := range segs {
			if i > 0 && i < len(segs)-1 && generatedID(seg) {
				if out[len(out)-1] != "…" {
					out = append(out, "…")
				}
				continue
			}
			out = append(out, seg)
		}
		return strings.Join(out, "/")
	})
}

// generatedID is a path segment AWS made up: 8 or more hex digits.
func generatedID(s string) bool {
	return len(s) >= 8 && strings.Trim(s, "0123456789abcdef") == ""
}

// wrapNotFound attaches the asked-for identifier to AWS's not-found errors.
func wrapNotFound(err error, kind, id string) error {
	if notFoundKind(err) == kind {
		return &NotFoundError{Kind: kind, ID: id, Err: err}
	}
	return err
}
