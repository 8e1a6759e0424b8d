package aws

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// What goes wrong first on a real machine, through the SDK's own chain
// and error types: each gives one line that says what to do.

func TestExpiredSSOSessionSaysToLogIn(t *testing.T) {
	isolateAWSEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	const startURL = "https://example.awsapps.com/start"
	config := "[profile prod-admin]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(startURL))
	cache := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	token := `{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"` + startURL + `"}`
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(t.Context(), ConfigOptions{Profile: "prod-admin", EndpointURL: "http://127.0.0.1:1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewIdentity(cfg).CallerIdentity(t.Context())
	if got := DescribeErrorWithProfile(err, "prod-admin"); got != "AWS credentials expired or invalid: run `aws sso login --profile prod-admin` or refresh them" {
		t.Fatalf("expired SSO session: %q (from %v)", got, err)
	}
}

func TestNoCredentialsSaysWhereItLooked(t *testing.T) {
	isolateAWSEnv(t)
	t.Setenv("HOME", t.TempDir())
	cfg, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewIdentity(cfg).CallerIdentity(t.Context())
	got := DescribeError(err)
	for _, want := range []string{"no AWS credentials found", "AWS_ACCESS_KEY_ID", "~/.aws/credentials", "SSO", "aws configure"} {
		if !strings.Contains(got, want) {
			t.Fatalf("no credentials: %q lacks %q (from %v)", got, want, err)
		}
	}
	if strings.Contains(got, "\n") {
		t.Fatalf("more than one line: %q", got)
	}
}

func TestAccessDeniedNamesTheIAMAction(t *testing.T) {
	isolateAWSEnv(t)
	env := simtest.Start(t, simtest.Options{ScenarioName: "healthy"})
	if err := env.Sim.InjectFault(sim.Fault{Service: "elbv2", Operation: "DescribeTags", Code: "AccessDenied", Status: 403, Times: -1,
		Message: "User: arn:aws:iam::123456789012:user/watcher is not authorized to perform: elasticloadbalancing:DescribeTags"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", EndpointURL: env.URL, MaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: env.Manifest.Targets[0].RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.ReadMarker(t.Context())
	want := "access denied: the credentials lack IAM permission elasticloadbalancing:DescribeTags (perch's policies are in docs/iam.md): " +
		"User: arn:aws:iam::123456789012:user/watcher is not authorized to perform: elasticloadbalancing:DescribeTags"
	if got := DescribeError(err); got != want {
		t.Fatalf("access denied:\n got %q\nwant %q", got, want)
	}
	// The router still opened: the marker it could not read leaves the
	// canary unconfirmed, saying why.
	if why := r.Target().CanaryUnconfirmed; !strings.Contains(why, "could not be read") {
		t.Fatalf("unconfirmed = %q", why)
	}
}

func TestNoRegionSaysHowToSetOne(t *testing.T) {
	isolateAWSEnv(t)
	_, err := LoadConfig(t.Context(), ConfigOptions{Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if got := DescribeError(err); !strings.Contains(got, "--region") || !strings.Contains(got, "AWS_REGION") || !strings.Contains(got, "~/.aws/config") {
		t.Fatalf("no region: %q", got)
	}
}
