package aws

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func TestLoadConfigNoRegion(t *testing.T) {
	isolateAWSEnv(t)
	_, err := LoadConfig(t.Context(), ConfigOptions{Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if !errors.Is(err, ErrNoRegion) || err.Error() != "no AWS region: pass --region, set AWS_REGION, or add `region = ...` to the profile in ~/.aws/config" {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg, err := LoadConfig(t.Context(), ConfigOptions{})
	if err != nil || cfg.Region != "eu-west-1" {
		t.Fatalf("region from env: %q, %v", cfg.Region, err)
	}
	cfg, err = LoadConfig(t.Context(), ConfigOptions{Region: "ap-south-1", MaxAttempts: 1})
	if err != nil || cfg.Region != "ap-south-1" || cfg.RetryMaxAttempts != 1 {
		t.Fatalf("flag wins: %q %d, %v", cfg.Region, cfg.RetryMaxAttempts, err)
	}
}

func TestLoadConfigEndpoint(t *testing.T) {
	isolateAWSEnv(t)
	for _, bad := range []string{"localhost:4566", "ftp://h", "http://", "http://:80", "://x", "http://h:port"} {
		_, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", EndpointURL: bad})
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "endpoint URL") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	for _, good := range []string{"http://127.0.0.1:4566", "https://sim.example", "http://h:1/prefix"} {
		cfg, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", EndpointURL: good})
		if err != nil || awssdk.ToString(cfg.BaseEndpoint) != good {
			t.Errorf("%q: %v %v", good, cfg.BaseEndpoint, err)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL", "not a url")
	if _, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1"}); err == nil {
		t.Error("bad AWS_ENDPOINT_URL accepted")
	}
}

func TestLoadConfigProfile(t *testing.T) {
	isolateAWSEnv(t)
	_, err := LoadConfig(t.Context(), ConfigOptions{Profile: "nosuch", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("err = %v", err)
	}
}

func TestDescribeErrorConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	cfg := testConfig(t, endpoint)
	_, err = NewIdentity(cfg).CallerIdentity(t.Context())
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if got, want := DescribeError(err), "cannot reach "+endpoint+": connection refused"; got != want {
		t.Fatalf("DescribeError = %q, want %q", got, want)
	}
}

type fakeSTS struct{ err error }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return nil, f.err
}

func TestDescribeErrorCodes(t *testing.T) {
	op := func(code, msg string) error {
		return &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity",
			Err: &smithy.GenericAPIError{Code: code, Message: msg}}
	}
	cases := []struct {
		err     error
		profile string
		want    string
	}{
		{op("ExpiredToken", "The security token included in the request is expired"), "prod",
			"AWS credentials expired or invalid: run `aws sso login --profile prod` or refresh them"},
		{op("InvalidClientTokenId", "bad"), "",
			"AWS credentials expired or invalid: run `aws sso login` or refresh them"},
		{op("AccessDenied", "User: arn:aws:iam::1:user/x is not authorized\nto perform: elasticloadbalancing:ModifyRule"), "",
			"access denied: the credentials lack IAM permission sts:GetCallerIdentity (perch's policies are in docs/iam.md): User: arn:aws:iam::1:user/x is not authorized to perform: elasticloadbalancing:ModifyRule"},
		{op("Throttling", "Rate exceeded"), "", "AWS is throttling requests (GetCallerIdentity) (Throttling); perch will retry more slowly"},
		{op("ValidationError", "1 validation error"), "", "ValidationError (GetCallerIdentity): 1 validation error"},
		{&NotFoundError{Kind: "rule", ID: "arn:x"}, "", "rule not found: arn:x"},
		{context.DeadlineExceeded, "", "timed out waiting for AWS"},
		{nil, "", ""},
	}
	for _, c := range cases {
		// Through the adapter, so the wrapping it adds is part of the test.
		err := c.err
		if err != nil {
			_, err = (&Identity{api: fakeSTS{c.err}}).CallerIdentity(t.Context())
		}
		if got := DescribeErrorWithProfile(err, c.profile); got != c.want {
			t.Errorf("DescribeError(%v)\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}

func TestDescribeErrorNeverLeaksSecret(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	isolateAWSEnv(t)
	cfg, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", secret, "sessiontoken"), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewIdentity(cfg).CallerIdentity(t.Context())
	if msg := DescribeError(err); strings.Contains(msg, secret) || strings.Contains(msg, "sessiontoken") {
		t.Fatalf("secret in %q", msg)
	}
}
