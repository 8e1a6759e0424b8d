package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/perch-dev/perch/model"
)

type lambdaAPI interface {
	GetAlias(ctx context.Context, in *lambda.GetAliasInput, optFns ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

// LambdaOptions name the alias to drive.
type LambdaOptions struct {
	Function string // name, ARN or partial ARN
	Alias    string
	// CanaryVersion names the canary when the alias has no routing yet.
	// With routing, it must agree with the alias's additional version.
	CanaryVersion string
}

// LambdaWeightScale is the denominator of a Lambda split's integer
// weights: the alias's fraction w (0-1) reads as CanaryWeight
// round(w*1000) out of 1000, so 0.1% steps survive.
const LambdaWeightScale = 1000

// LambdaRouter reads and writes a weighted alias: FunctionVersion is the
// stable side, the one AdditionalVersionWeights entry the canary. The two
// versions are fixed when the router is built, so a promoted alias (the
// canary as FunctionVersion, no routing) still reads as the same two
// sides, with the canary at 100%.
type LambdaRouter struct {
	api    lambdaAPI
	fn     string // as the operator named it
	alias  string
	stable string
	canary string
	target model.Target
}

var versionRE = regexp.MustCompile(`^[0-9]+$`)

// NewLambdaRouter reads the alias and works out its two versions.
func NewLambdaRouter(ctx context.Context, cfg awssdk.Config, o LambdaOptions) (*LambdaRouter, error) {
	return newLambdaRouter(ctx, lambda.NewFromConfig(cfg), cfg.Region, o)
}

func newLambdaRouter(ctx context.Context, api lambdaAPI, region string, o LambdaOptions) (*LambdaRouter, error) {
	switch {
	case o.Function == "":
		return nil, errors.New("name the function (--function)")
	case o.Alias == "":
		return nil, errors.New("name the alias (--alias)")
	case o.Alias == "$LATEST" || versionRE.MatchString(o.Alias):
		return nil, fmt.Errorf("%q is a version, not an alias: perch drives an alias that routes between two versions", o.Alias)
	}
	r := &LambdaRouter{api: api, fn: o.Function, alias: o.Alias}
	a, err := r.getAlias(ctx)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) && nf.Kind == "alias" {
			// Say which one is missing: the function, or only the alias.
			if _, ferr := r.configuration(ctx, ""); ferr != nil {
				return nil, ferr
			}
		}
		return nil, err
	}
	fv := awssdk.ToString(a.FunctionVersion)
	weights := routing(a.RoutingConfig)
	what := r.describeWhat()
	if fv == "$LATEST" {
		return nil, fmt.Errorf("%s points at $LATEST, which cannot take weighted routing: point it at a published version first", what)
	}
	var canary string
	source := model.CanaryFromAlias
	switch len(weights) {
	case 0:
		// All traffic on one version: the user's word names the other.
		source = model.CanaryFromFlag
		if o.CanaryVersion == "" {
			return nil, fmt.Errorf("%s has no routing (all traffic on version %s): name the canary with --canary-version", what, fv)
		}
		canary = o.CanaryVersion
	case 1:
		for v := range weights {
			canary = v
		}
		if o.CanaryVersion != "" && o.CanaryVersion != canary {
			return nil, fmt.Errorf("%s routes %s to version %s, not to --canary-version %s",
				what, model.FormatPercent(100*weights[canary]), canary, o.CanaryVersion)
		}
	default:
		return nil, fmt.Errorf("%s routes to %d additional versions; perch needs one stable and one canary version", what, len(weights))
	}
	switch {
	case canary == "$LATEST":
		return nil, fmt.Errorf("the canary cannot be $LATEST: weighted routing needs published versions")
	case !versionRE.MatchString(canary):
		return nil, fmt.Errorf("canary version %q is not a published version number", canary)
	case canary == fv:
		return nil, fmt.Errorf("version %s is the stable version of %s (its FunctionVersion); the canary must be another version", canary, what)
	}
	// The canary must exist: an alias whose routing names a missing
	// version, or a mistyped --canary-version, is refused before any write.
	if _, err := r.configuration(ctx, canary); err != nil {
		if len(weights) == 1 {
			var nf *NotFoundError
			if errors.As(err, &nf) {
				return nil, fmt.Errorf("%s routes %s to version %s, which does not exist", what, model.FormatPercent(100*weights[canary]), canary)
			}
		}
		return nil, err
	}
	r.stable, r.canary = fv, canary
	aliasARN := awssdk.ToString(a.AliasArn)
	fnARN := strings.TrimSuffix(aliasARN, ":"+r.alias)
	name := functionName(aliasARN, o.Function)
	r.target = model.Target{
		Kind:       model.KindLambda,
		Name:       name + ":" + r.alias,
		Region:     region,
		Function:   name,
		Alias:      r.alias,
		AliasARN:   aliasARN,
		StableName: "version " + r.stable,
		CanaryName: "version " + r.canary,
		StableARN:  fnARN + ":" + r.stable,
		CanaryARN:  fnARN + ":" + r.canary,
		// FunctionVersion is stable and the weighted version the canary,
		// above 50% too: never a comparison of weights.
		CanarySource: source,
	}
	return r, nil
}

// functionName takes the plain name from an alias ARN
// (arn:aws:lambda:region:account:function:NAME:ALIAS), so that an operator
// who passed an ARN still gets the FunctionName metric dimension right.
func functionName(aliasARN, given string) string {
	if _, rest, ok := strings.Cut(aliasARN, ":function:"); ok {
		if name, _, ok := strings.Cut(rest, ":"); ok && name != "" {
			return name
		}
	}
	if _, rest, ok := strings.Cut(given, ":function:"); ok {
		given = rest
	}
	name, _, _ := strings.Cut(given, ":")
	return name
}

// Target describes the alias and its two versions.
func (r *LambdaRouter) Target() model.Target { return r.target }

// Versions returns the stable and canary versions fixed for this router.
func (r *LambdaRouter) Versions() (stable, canary string) { return r.stable, r.canary }

// ReadSplit re-reads the alias. Weights are out of LambdaWeightScale and
// Revision is the alias's RevisionId, for the compare-and-set write.
func (r *LambdaRouter) ReadSplit(ctx context.Context) (model.Split, error) {
	a, err := r.getAlias(ctx)
	if err != nil {
		return model.Split{}, err
	}
	return r.splitOf(a)
}

func (r *LambdaRouter) splitOf(a *lambda.GetAliasOutput) (model.Split, error) {
	fv := awssdk.ToString(a.FunctionVersion)
	weights := routing(a.RoutingConfig)
	s := model.Split{StableID: r.stable, CanaryID: r.canary, Revision: awssdk.ToString(a.RevisionId)}
	other := r.canary // the version that may carry the additional weight
	if fv == r.canary {
		other = r.stable
	}
	_, routesOther := weights[other]
	switch {
	case fv != r.stable && fv != r.canary, len(weights) > 1, len(weights) == 1 && !routesOther:
		return model.Split{}, fmt.Errorf("%s no longer routes between versions %s and %s (now: %s)",
			r.describeWhat(), r.stable, r.canary, describeRouting(fv, weights))
	}
	w := weights[other]
	if math.IsNaN(w) || w < 0 || w > 1 {
		return model.Split{}, fmt.Errorf("%s has weight %v for version %s, outside 0-1", r.describeWhat(), w, other)
	}
	extra := int(math.Round(w * LambdaWeightScale))
	if fv == r.stable {
		s.CanaryWeight = extra
	} else {
		s.CanaryWeight = LambdaWeightScale - extra
	}
	s.StableWeight = LambdaWeightScale - s.CanaryWeight
	return s, nil
}

// WriteSplit sets the alias to want with UpdateAlias, passing want.Revision
// as the RevisionId: if anyone changed the alias since that read, Lambda
// refuses with 412 and nothing is overwritten. The routing is always sent
// explicitly. 0% is the stable version alone, 100% (promote) the canary
// version alone, anything between the stable version plus the canary by
// weight.
func (r *LambdaRouter) WriteSplit(ctx context.Context, want model.Split) error {
	if want.StableID != r.stable || want.CanaryID != r.canary {
		return fmt.Errorf("write split to %s: versions %s/%s are not this alias's %s/%s",
			r.describeWhat(), want.StableID, want.CanaryID, r.stable, r.canary)
	}
	if want.Revision == "" {
		return fmt.Errorf("write split to %s: no RevisionId to compare against; read the alias first", r.describeWhat())
	}
	if want.StableWeight < 0 || want.CanaryWeight < 0 || want.StableWeight+want.CanaryWeight == 0 {
		return fmt.Errorf("write split to %s: weights %d/%d do not describe a split", r.describeWhat(), want.StableWeight, want.CanaryWeight)
	}
	frac := float64(want.CanaryWeight) / float64(want.StableWeight+want.CanaryWeight)
	// Round away float noise (0.1+0.2 style); Lambda keeps what it is sent.
	frac = math.Round(frac*1e6) / 1e6
	fv, weights := r.stable, map[string]float64{}
	switch {
	case frac >= 1:
		fv = r.canary
	case frac > 0:
		weights[r.canary] = frac
	}
	_, err := r.api.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName:    awssdk.String(r.fn),
		Name:            awssdk.String(r.alias),
		FunctionVersion: awssdk.String(fv),
		RoutingConfig:   &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: weights},
		RevisionId:      awssdk.String(want.Revision),
	})
	if err != nil {
		var pf *ltypes.PreconditionFailedException
		if errors.As(err, &pf) {
			return &StaleRevisionError{What: r.describeWhat(), Revision: want.Revision, Err: err}
		}
		return fmt.Errorf("update %s: %w", r.describeWhat(), r.wrapNotFound(err, "alias", r.fn+":"+r.alias))
	}
	return nil
}

// Health reports each version as one unit: healthy when it exists and is
// Active, other (not serving yet) when Pending, unhealthy otherwise.
func (r *LambdaRouter) Health(ctx context.Context) ([2]model.Health, error) {
	var out [2]model.Health
	for i, v := range [2]string{r.stable, r.canary} {
		cfg, err := r.configuration(ctx, v)
		var nf *NotFoundError
		switch {
		case errors.As(err, &nf):
			out[i].Unhealthy = 1
		case err != nil:
			return out, err
		default:
			out[i] = versionHealth(cfg.State)
		}
	}
	return out, nil
}

// BatchNeeds is the alias a fleet poll reads for this router, in one
// ListAliases per function when that is cheaper.
func (r *LambdaRouter) BatchNeeds() BatchNeeds {
	return BatchNeeds{Alias: &FunctionAlias{Function: r.fn, Alias: r.alias}}
}

func (r *LambdaRouter) getAlias(ctx context.Context) (*lambda.GetAliasOutput, error) {
	if a, err, ok := batchedAlias(ctx, FunctionAlias{Function: r.fn, Alias: r.alias}); ok {
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", r.describeWhat(), err)
		}
		return a, nil
	}
	a, err := r.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: awssdk.String(r.fn), Name: awssdk.String(r.alias)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", r.describeWhat(), r.wrapNotFound(err, "alias", r.fn+":"+r.alias))
	}
	return a, nil
}

// configuration reads a version's configuration ("" for the function).
func (r *LambdaRouter) configuration(ctx context.Context, version string) (*lambda.GetFunctionConfigurationOutput, error) {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: awssdk.String(r.fn)}
	kind, id := "function", r.fn
	if version != "" {
		in.Qualifier = awssdk.String(version)
		kind, id = "version", r.fn+":"+version
	}
	cfg, err := r.api.GetFunctionConfiguration(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get function configuration %s: %w", id, r.wrapNotFound(err, kind, id))
	}
	return cfg, nil
}

func (r *LambdaRouter) wrapNotFound(err error, kind, id string) error {
	var nf *ltypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return &NotFoundError{Kind: kind, ID: id, Err: err}
	}
	return err
}

func (r *LambdaRouter) describeWhat() string { return "alias " + r.fn + ":" + r.alias }

func routing(rc *ltypes.AliasRoutingConfiguration) map[string]float64 {
	if rc == nil || rc.AdditionalVersionWeights == nil {
		return map[string]float64{}
	}
	return rc.AdditionalVersionWeights
}

func describeRouting(fv string, weights map[string]float64) string {
	parts := []string{"version " + fv}
	for v, w := range weights {
		parts = append(parts, fmt.Sprintf("version %s at %s", v, model.FormatPercent(100*w)))
	}
	return strings.Join(parts, " + ")
}

// StaleRevisionError is Lambda's 412: the alias changed after perch read
// it, so the write was refused and nothing was overwritten. It is drift,
// not a transient failure: re-read and decide again, never retry as is.
type StaleRevisionError struct {
	What     string // "alias orders:live"
	Revision string // the RevisionId perch sent
	Err      error
}

func (e *StaleRevisionError) Error() string { return e.ErrorMessage() }
func (e *StaleRevisionError) Unwrap() error { return e.Err }

// ErrorCode, ErrorMessage and ErrorFault make the error a smithy.APIError
// in its own right, so DescribeError says what happened in perch's words
// before it reaches the SDK's generic message.
func (e *StaleRevisionError) ErrorCode() string { return "PreconditionFailedException" }
func (e *StaleRevisionError) ErrorMessage() string {
	return e.What + " changed since perch read it (RevisionId " + shortRevision(e.Revision) +
		" is stale): nothing was written; re-read and decide again"
}
func (e *StaleRevisionError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func shortRevision(r string) string {
	if len(r) > 8 {
		return r[:8] + "…"
	}
	return r
}

// versionHealth is a Lambda version's capacity as one unit: healthy when
// Active, starting when Pending, unhealthy otherwise (Failed, Inactive).
// A version that is gone is unhealthy too; callers check for that.
func versionHealth(state ltypes.State) model.Health {
	switch state {
	case ltypes.StateActive:
		return model.Health{Healthy: 1}
	case ltypes.StatePending:
		return model.Health{Other: 1}
	}
	return model.Health{Unhealthy: 1}
}
