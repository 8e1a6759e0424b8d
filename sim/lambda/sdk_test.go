package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// These tests drive the simulated Lambda with the real SDK client (the
// default retryer included) over loopback.

func newLambda(t *testing.T, scenario string) (*simtest.Env, *lambda.Client, sim.ManifestTarget) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	var target sim.ManifestTarget
	for _, tg := range env.Manifest.Targets {
		if tg.Kind == "lambda" && tg.Note == "" {
			target = tg
			break
		}
	}
	if target.Function == "" {
		t.Fatalf("scenario %s seeds no drivable Lambda alias: %+v", scenario, env.Manifest.Targets)
	}
	return env, lambda.NewFromConfig(env.AWS), target
}

func weightsOfAlias(out *lambda.GetAliasOutput) map[string]float64 {
	if out.RoutingConfig == nil {
		return map[string]float64{}
	}
	return out.RoutingConfig.AdditionalVersionWeights
}

func TestLambdaAliasRoundTripWithRevisionID(t *testing.T) {
	env, c, tg := newLambda(t, "lambda-healthy")
	ctx := context.Background()
	got, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.FunctionVersion) != "7" || weightsOfAlias(got)["8"] != 0.1 || len(weightsOfAlias(got)) != 1 ||
		aws.ToString(got.AliasArn) != tg.AliasARN || aws.ToString(got.RevisionId) == "" {
		t.Fatalf("seeded alias: version %s weights %v arn %s rev %q", aws.ToString(got.FunctionVersion), weightsOfAlias(got),
			aws.ToString(got.AliasArn), aws.ToString(got.RevisionId))
	}
	// The function may be named by ARN or partial ARN, as in AWS.
	for _, name := range []string{"arn:aws:lambda:us-east-1:123456789012:function:orders", "123456789012:function:orders"} {
		byARN, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(tg.Alias)})
		if err != nil || aws.ToString(byARN.RevisionId) != aws.ToString(got.RevisionId) {
			t.Fatalf("GetAlias by %s: %v", name, err)
		}
	}

	up, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias), FunctionVersion: aws.String("7"),
		RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"8": 0.25}},
		RevisionId:    got.RevisionId,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.RevisionId) == aws.ToString(got.RevisionId) || up.RoutingConfig.AdditionalVersionWeights["8"] != 0.25 {
		t.Fatalf("update: rev %s (was %s), weights %v", aws.ToString(up.RevisionId), aws.ToString(got.RevisionId), up.RoutingConfig.AdditionalVersionWeights)
	}
	state, err := env.Sim.Alias(tg.Function, tg.Alias)
	if err != nil || state.Weights["8"] != 0.25 || state.FunctionVersion != "7" || state.RevisionID != aws.ToString(up.RevisionId) {
		t.Fatalf("simulator state %+v %v", state, err)
	}

	// Promote: FunctionVersion becomes the canary and the routing is
	// cleared by an explicit empty map.
	prom, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias), FunctionVersion: aws.String("8"),
		RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}},
		RevisionId:    up.RevisionId,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(prom.FunctionVersion) != "8" || prom.RoutingConfig != nil && len(prom.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("promote: %s %+v", aws.ToString(prom.FunctionVersion), prom.RoutingConfig)
	}
	// A nil RoutingConfig leaves the routing alone.
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias),
		Description: aws.String("promoted")}); err != nil {
		t.Fatal(err)
	}
	if st, _ := env.Sim.Alias(tg.Function, tg.Alias); st.FunctionVersion != "8" || len(st.Weights) != 0 {
		t.Fatalf("after a description-only update: %+v", st)
	}
	stats := env.Sim.Stats()
	if stats["lambda:GetAlias"] != 3 || stats["lambda:UpdateAlias"] != 3 {
		t.Fatalf("stats %v", stats)
	}
}

func TestLambdaStaleRevisionIDIs412AndNotRetried(t *testing.T) {
	env, c, tg := newLambda(t, "lambda-healthy")
	ctx := context.Background()
	seen, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias)})
	if err != nil {
		t.Fatal(err)
	}
	// A second operator moves the canary to 50%.
	if err := env.Sim.SetAliasRouting(tg.Function, tg.Alias, "7", map[string]float64{"8": 0.5}); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(tg.Function), Name: aws.String(tg.Alias), FunctionVersion: aws.String("7"),
		RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"8": 0.2}},
		RevisionId:    seen.RevisionId,
	})
	var pf *ltypes.PreconditionFailedException
	if !errors.As(err, &pf) || aws.ToString(pf.Type) != "User" || !strings.Contains(pf.ErrorMessage(), "Revision Id") {
		t.Fatalf("stale RevisionId: %v", err)
	}
	if n := env.Sim.Stats()["lambda:UpdateAlias"]; n != 1 {
		t.Fatalf("a 412 was sent %d times; the SDK must not retry it", n)
	}
	if st, _ := env.Sim.Alias(tg.Function, tg.Alias); st.Weights["8"] != 0.5 {
		t.Fatalf("the stale write overwrote the other operator's change: %+v", st)
	}
}

func TestLambdaValidationErrorsAreTypedAndChangeNothing(t *testing.T) {
	env, c, tg := newLambda(t, "lambda-healthy")
	ctx := context.Background()
	before, _ := env.Sim.Alias(tg.Function, tg.Alias)
	update := func(fn, alias, version string, w map[string]float64) error {
		in := &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(version)}
		if w != nil {
			in.RoutingConfig = &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: w}
		}
		_, err := c.UpdateAlias(ctx, in, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	var (
		invalid  *ltypes.InvalidParameterValueException
		notFound *ltypes.ResourceNotFoundException
	)
	isValidation := func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "ValidationException"
	}
	cases := []struct {
		name string
		err  error
		ok   func(error) bool
		want string
	}{
		{"weight above 1", update("orders", "live", "7", map[string]float64{"8": 1.5}), isValidation, "less than or equal to 1.0"},
		{"negative weight", update("orders", "live", "7", map[string]float64{"8": -0.1}), isValidation, "greater than or equal to 0.0"},
		{"two additional versions", update("orders", "live", "7", map[string]float64{"8": 0.1, "6": 0.1}),
			func(err error) bool { return errors.As(err, &invalid) }, "at most 2 versions"},
		{"$LATEST as an additional version", update("orders", "live", "7", map[string]float64{"$LATEST": 0.1}), isValidation, "[0-9]+"},
		{"$LATEST with routing", update("orders", "live", "$LATEST", map[string]float64{"8": 0.1}),
			func(err error) bool { return errors.As(err, &invalid) }, "$LATEST"},
		{"routing to FunctionVersion", update("orders", "live", "8", map[string]float64{"8": 0.1}),
			func(err error) bool { return errors.As(err, &invalid) }, "cannot also be"},
		{"unknown routed version", update("orders", "live", "7", map[string]float64{"99": 0.1}),
			func(err error) bool { return errors.As(err, &notFound) }, "orders:99"},
		{"unknown FunctionVersion", update("orders", "live", "42", map[string]float64{}),
			func(err error) bool { return errors.As(err, &notFound) }, "orders:42"},
		{"unknown alias", update("orders", "nope", "7", nil),
			func(err error) bool { return errors.As(err, &notFound) }, "Alias not found"},
		{"unknown function", update("nope", "live", "7", nil),
			func(err error) bool { return errors.As(err, &notFound) }, "Function not found"},
		{"function in another account", update("arn:aws:lambda:us-east-1:999999999999:function:orders", "live", "7", nil),
			func(err error) bool { return errors.As(err, &notFound) }, "Function not found"},
	}
	for _, tc := range cases {
		if tc.err == nil || !tc.ok(tc.err) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want a typed error mentioning %q", tc.name, tc.err, tc.want)
		}
	}
	if after, _ := env.Sim.Alias(tg.Function, tg.Alias); after.RevisionID != before.RevisionID || after.Weights["8"] != before.Weights["8"] {
		t.Fatalf("a refused update changed the alias: %+v → %+v", before, after)
	}
}

func TestLambdaErrorShapeOnTheWire(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "lambda-healthy"})
	resp, err := http.Get(env.URL + "/2015-03-31/functions/orders/aliases/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("error body is not JSON: %s", raw)
	}
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
		body["Type"] != "User" || !strings.Contains(body["message"], "function:orders:nope") || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("HTTP %d, headers %v, body %s", resp.StatusCode, resp.Header, raw)
	}
}

func TestLambdaVersionsConfigurationAndAliases(t *testing.T) {
	env, c, tg := newLambda(t, "lambda-healthy")
	ctx := context.Background()
	var versions []string
	pages := 0
	p := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("orders"), MaxItems: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range out.Versions {
			versions = append(versions, aws.ToString(v.Version))
		}
	}
	if strings.Join(versions, ",") != "$LATEST,1,2,3,4,5,6,7,8" || pages != 3 {
		t.Fatalf("%d pages of versions %v", pages, versions)
	}
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders"), Qualifier: aws.String("8")})
	if err != nil || cfg.State != ltypes.StateActive || aws.ToString(cfg.Version) != "8" || !strings.HasSuffix(aws.ToString(cfg.FunctionArn), ":orders:8") ||
		cfg.LastUpdateStatus != ltypes.LastUpdateStatusSuccessful || aws.ToString(cfg.CodeSha256) == "" || aws.ToString(cfg.RevisionId) == "" {
		t.Fatalf("configuration of 8: %+v %v", cfg, err)
	}
	viaAlias, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders:live")})
	if err != nil || aws.ToString(viaAlias.Version) != "7" {
		t.Fatalf("configuration via the alias: %v %v", viaAlias, err)
	}
	var nf *ltypes.ResourceNotFoundException
	if _, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders"), Qualifier: aws.String("99")}); !errors.As(err, &nf) {
		t.Fatalf("unknown qualifier: %v", err)
	}
	if err := env.Sim.SetVersionState("orders", "8", "Failed"); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders"), Qualifier: aws.String("8")}); err != nil ||
		cfg.State != ltypes.StateFailed || cfg.StateReasonCode == "" {
		t.Fatalf("failed version: %+v %v", cfg, err)
	}

	aliases, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("orders"), FunctionVersion: aws.String("8")})
	if err != nil || len(aliases.Aliases) != 1 || aws.ToString(aliases.Aliases[0].Name) != tg.Alias {
		t.Fatalf("aliases routing to 8: %+v %v", aliases, err)
	}
	if none, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("orders"), FunctionVersion: aws.String("3")}); err != nil || len(none.Aliases) != 0 {
		t.Fatalf("aliases on 3: %+v %v", none, err)
	}

	// $LATEST holds version 8's code: there is nothing new to publish.
	pub, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("orders")})
	if err != nil || aws.ToString(pub.Version) != "8" {
		t.Fatalf("publish with nothing new: %+v %v", pub, err)
	}
	var pf *ltypes.PreconditionFailedException
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("orders"), RevisionId: aws.String("stale")}); !errors.As(err, &pf) {
		t.Fatalf("publish on a stale RevisionId: %v", err)
	}
}
