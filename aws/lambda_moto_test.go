package aws

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/model"
)

// The Lambda router against moto, a second implementation of the Lambda
// API: aliases, versions and weighted routing must round-trip there too.
// moto does not check RevisionId on UpdateAlias (nor change it), so the
// compare-and-set itself is covered by the simulator tests only.

type lambdaFixture struct {
	api  *lambda.Client
	name string
}

// newLambdaFixture creates an IAM role (moto checks that a function's role
// exists), a function with versions 1..nVersions, and alias "live" on
// version stable with weights.
func newLambdaFixture(t *testing.T, nVersions int, stable string, weights map[string]float64) (*lambdaFixture, awssdk.Config) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	os.Unsetenv("AWS_ENDPOINT_URL_LAMBDA")
	cfg := motoConfig(t)
	ctx := t.Context()
	n := fixtureSeq.Add(1)
	var role struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	motoQuery(t, awssdk.ToString(cfg.BaseEndpoint), "iam", url.Values{
		"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {fmt.Sprintf("orders-role-%d", n)},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	}, &role)
	if role.Arn == "" {
		t.Fatal("moto returned no role ARN")
	}
	f := &lambdaFixture{api: lambda.NewFromConfig(cfg), name: fmt.Sprintf("orders-%d", n)}
	if _, err := f.api.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: awssdk.String(f.name), Role: awssdk.String(role.Arn), Runtime: ltypes.RuntimePython312,
		Handler: awssdk.String("app.handler"), Code: &ltypes.FunctionCode{ZipFile: zipOf(t, "build 1")}, Publish: true,
	}); err != nil {
		t.Fatalf("create function: %v", err)
	}
	for v := 2; v <= nVersions; v++ {
		if _, err := f.api.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: awssdk.String(f.name), ZipFile: zipOf(t, fmt.Sprintf("build %d", v)),
		}); err != nil {
			t.Fatalf("update function code: %v", err)
		}
		out, err := f.api.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: awssdk.String(f.name)})
		if err != nil || awssdk.ToString(out.Version) != fmt.Sprint(v) {
			t.Fatalf("publish version %d: %v %v", v, out, err)
		}
	}
	in := &lambda.CreateAliasInput{FunctionName: awssdk.String(f.name), Name: awssdk.String("live"), FunctionVersion: awssdk.String(stable)}
	if weights != nil {
		in.RoutingConfig = &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
	}
	if _, err := f.api.CreateAlias(ctx, in); err != nil {
		t.Fatalf("create alias: %v", err)
	}
	return f, cfg
}

func zipOf(t *testing.T, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("app.py")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "def handler(event, context):\n    return %q\n", body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *lambdaFixture) alias(t *testing.T) (string, map[string]float64) {
	t.Helper()
	out, err := f.api.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: awssdk.String(f.name), Name: awssdk.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.FunctionVersion), routing(out.RoutingConfig)
}

func TestMotoLambdaWeightedAliasRoundTrip(t *testing.T) {
	f, cfg := newLambdaFixture(t, 3, "1", map[string]float64{"2": 0.1})
	ctx := t.Context()
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: f.name, Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	if tg.Kind != model.KindLambda || tg.Function != f.name || tg.Alias != "live" ||
		!strings.HasSuffix(tg.AliasARN, ":function:"+f.name+":live") || tg.StableName != "version 1" || tg.CanaryName != "version 2" {
		t.Fatalf("target %+v", tg)
	}
	split, err := r.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if split.StableID != "1" || split.CanaryID != "2" || split.CanaryWeight != 100 || split.StableWeight != 900 || split.Revision == "" {
		t.Fatalf("read %+v", split)
	}
	for _, step := range []struct {
		pct     float64
		fv      string
		weights map[string]float64
	}{
		{25, "1", map[string]float64{"2": 0.25}},
		{100, "2", map[string]float64{}}, // promote: routing cleared explicitly
		{5, "1", map[string]float64{"2": 0.05}},
		{0, "1", map[string]float64{}}, // rollback
	} {
		cur, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := cur.WithCanaryPercent(step.pct)
		if err := r.WriteSplit(ctx, want); err != nil {
			t.Fatalf("write %v%%: %v", step.pct, err)
		}
		fv, w := f.alias(t)
		if fv != step.fv || len(w) != len(step.weights) || w["2"] != step.weights["2"] {
			t.Fatalf("after %v%%: moto has version %s weights %v, want %s %v", step.pct, fv, w, step.fv, step.weights)
		}
		back, err := r.ReadSplit(ctx)
		if err != nil || !back.SameRouting(want) {
			t.Fatalf("after %v%%: read back %+v %v, asked for %+v", step.pct, back, err, want)
		}
	}
	h, err := r.Health(ctx)
	if err != nil || h[model.Stable] != (model.Health{Healthy: 1}) || h[model.Canary] != (model.Health{Healthy: 1}) {
		t.Fatalf("health %+v %v", h, err)
	}
}

func TestMotoLambdaBadTargets(t *testing.T) {
	f, cfg := newLambdaFixture(t, 2, "1", nil)
	ctx := t.Context()
	cases := []struct {
		name string
		o    LambdaOptions
		want string
	}{
		{"unknown function", LambdaOptions{Function: f.name + "-nope", Alias: "live"}, "function not found"},
		{"unknown alias", LambdaOptions{Function: f.name, Alias: "nope"}, "alias not found"},
		{"no routing, no canary named", LambdaOptions{Function: f.name, Alias: "live"}, "--canary-version"},
		{"canary is the stable version", LambdaOptions{Function: f.name, Alias: "live", CanaryVersion: "1"}, "stable version"},
		{"canary does not exist", LambdaOptions{Function: f.name, Alias: "live", CanaryVersion: "7"}, "version not found"},
	}
	for _, tc := range cases {
		if _, err := NewLambdaRouter(ctx, cfg, tc.o); err == nil || !strings.Contains(DescribeError(err), tc.want) {
			t.Errorf("%s: %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: f.name, Alias: "live", CanaryVersion: "2"})
	if err != nil {
		t.Fatal(err)
	}
	split, err := r.ReadSplit(ctx)
	if err != nil || split.CanaryWeight != 0 || split.CanaryID != "2" {
		t.Fatalf("alias without routing: %+v %v", split, err)
	}
	if err := r.WriteSplit(ctx, split.WithCanaryPercent(10)); err != nil {
		t.Fatal(err)
	}
	if fv, w := f.alias(t); fv != "1" || w["2"] != 0.1 {
		t.Fatalf("first shift of an alias without routing: %s %v", fv, w)
	}
	var nf *NotFoundError
	if _, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: f.name + "-nope", Alias: "live"}); !errors.As(err, &nf) || nf.Kind != "function" {
		t.Fatalf("unknown function is not a function NotFoundError: %v", err)
	}
}

// motoQuery posts a raw Query-protocol request to one of moto's services
// (IAM here): perch never talks to IAM, so the SDK module is not needed.
func motoQuery(t *testing.T, endpoint, service string, params url.Values, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint+"/", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", service, params.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", service, params.Get("Action"), resp.StatusCode, body)
	}
	if err := xml.Unmarshal(body, out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", service, params.Get("Action"), body, err)
	}
}
