package lambda

import (
	"math"
	"net/http"
	"strings"

	"github.com/perch-dev/perch/sim/awsproto"
)

// resolveFunction finds a function named by name, full ARN or partial
// ARN, and returns the qualifier the identifier carried ("" if none).
func (l *Service) resolveFunction(id string) (*lambdaFunction, string, *awsproto.Error) {
	m := functionIDPattern.FindStringSubmatch(id)
	if m == nil {
		return nil, "", lambdaValidation("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "+
			`(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`, id)
	}
	region, account, partialAccount, name, qualifier := m[1], m[2], m[3], m[4], m[5]
	notFound := func() *awsproto.Error {
		arn := l.functionARN(name)
		if qualifier != "" {
			arn += ":" + qualifier
		}
		return lambdaNotFound("Function not found: %s", arn)
	}
	if (region != "" && region != l.region) || (account != "" && account != l.account) ||
		(partialAccount != "" && partialAccount != l.account) {
		return nil, "", notFound()
	}
	f := l.functions[name]
	if f == nil {
		return nil, "", notFound()
	}
	return f, qualifier, nil
}

func (l *Service) findAlias(f *lambdaFunction, name string) (*lambdaAlias, *awsproto.Error) {
	a := f.aliases[name]
	if a == nil {
		return nil, lambdaNotFound("Alias not found: %s:%s", f.arn, name)
	}
	return a, nil
}

// aliasJSON is AliasConfiguration.
type aliasJSON struct {
	AliasArn        string       `json:"AliasArn"`
	Name            string       `json:"Name"`
	FunctionVersion string       `json:"FunctionVersion"`
	Description     string       `json:"Description"`
	RoutingConfig   *routingJSON `json:"RoutingConfig,omitempty"`
	RevisionId      string       `json:"RevisionId"`
}

type routingJSON struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

func (f *lambdaFunction) aliasJSON(a *lambdaAlias) aliasJSON {
	out := aliasJSON{
		AliasArn: f.arn + ":" + a.name, Name: a.name, FunctionVersion: a.functionVersion,
		Description: a.description, RevisionId: a.revisionID,
	}
	if len(a.weights) > 0 {
		w := make(map[string]float64, len(a.weights))
		for k, v := range a.weights {
			w[k] = v
		}
		out.RoutingConfig = &routingJSON{AdditionalVersionWeights: w}
	}
	return out
}

func (l *Service) getAlias(_ *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
	f, _, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	a, aerr := l.findAlias(f, req.alias)
	if aerr != nil {
		return 0, nil, aerr
	}
	return http.StatusOK, f.aliasJSON(a), nil
}

func (l *Service) updateAlias(_ *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error) {
	var in struct {
		FunctionVersion *string
		Description     *string
		RoutingConfig   *routingJSON
		RevisionId      *string
	}
	if aerr := decodeLambdaBody(body, &in); aerr != nil {
		return 0, nil, aerr
	}
	f, _, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	a, aerr := l.findAlias(f, req.alias)
	if aerr != nil {
		return 0, nil, aerr
	}
	if in.RevisionId != nil && *in.RevisionId != a.revisionID {
		return 0, nil, &awsproto.Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
			Message: "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id",
			Sender:  true}
	}
	fv := a.functionVersion
	if in.FunctionVersion != nil {
		fv = *in.FunctionVersion
	}
	weights := a.weights
	if in.RoutingConfig != nil {
		weights = in.RoutingConfig.AdditionalVersionWeights
	}
	if aerr := l.setAlias(f, a, fv, weights); aerr != nil {
		return 0, nil, aerr
	}
	if in.Description != nil {
		a.description = *in.Description
	}
	return http.StatusOK, f.aliasJSON(a), nil
}

// createAlias adds an alias, as a second team sharing a function does:
// it gets no traffic model of its own (only the scenario's aliases
// publish metrics), but reads, lists and updates like any other.
func (l *Service) createAlias(_ *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error) {
	var in struct {
		Name            string
		FunctionVersion string
		Description     string
		RoutingConfig   *routingJSON
	}
	if aerr := decodeLambdaBody(body, &in); aerr != nil {
		return 0, nil, aerr
	}
	f, _, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	if !aliasNamePattern.MatchString(in.Name) || versionPattern.MatchString(in.Name) {
		return 0, nil, lambdaValidation("Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)", in.Name)
	}
	if f.aliases[in.Name] != nil {
		return 0, nil, &awsproto.Error{Status: http.StatusConflict, Code: "ResourceConflictException",
			Message: "Alias already exists: " + f.arn + ":" + in.Name, Sender: true}
	}
	a := &lambdaAlias{name: in.Name, description: in.Description}
	var weights map[string]float64
	if in.RoutingConfig != nil {
		weights = in.RoutingConfig.AdditionalVersionWeights
	}
	if aerr := l.setAlias(f, a, in.FunctionVersion, weights); aerr != nil {
		return 0, nil, aerr
	}
	f.aliases[in.Name] = a
	return http.StatusCreated, f.aliasJSON(a), nil
}

// setAlias validates and applies a new target for an alias the way
// UpdateAlias does, with a new RevisionId.
func (l *Service) setAlias(f *lambdaFunction, a *lambdaAlias, fv string, weights map[string]float64) *awsproto.Error {
	if !versionPattern.MatchString(fv) {
		return lambdaValidation("Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)", fv)
	}
	if f.version(fv) == nil {
		return lambdaNotFound("Function not found: %s:%s", f.arn, fv)
	}
	if aerr := l.checkRouting(f, fv, weights); aerr != nil {
		return aerr
	}
	a.functionVersion = fv
	a.weights = map[string]float64{}
	for k, v := range weights {
		a.weights[k] = v
	}
	a.revisionID = l.newRevision()
	l.changed(f.name, a.name)
	return nil
}

// checkRouting applies Lambda's rules for AdditionalVersionWeights.
func (l *Service) checkRouting(f *lambdaFunction, fv string, weights map[string]float64) *awsproto.Error {
	keys := awsproto.SortedKeys(weights)
	for _, k := range keys {
		if !routingKeyPattern.MatchString(k) {
			return lambdaValidation("Value '{%s=%v}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "+
				"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]", k, weights[k])
		}
		if w := weights[k]; math.IsNaN(w) || w < 0 || w > 1 {
			return lambdaValidation("Value '{%s=%v}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "+
				"Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]", k, w)
		}
	}
	if len(weights) > 1 {
		return lambdaInvalid("An alias can point to at most 2 versions: AdditionalVersionWeights names %d versions (%s), the limit is 1",
			len(weights), strings.Join(keys, ", "))
	}
	if len(weights) == 1 && fv == "$LATEST" {
		return lambdaInvalid("$LATEST is not supported for an alias pointing to more than 1 version")
	}
	for _, k := range keys {
		if k == fv {
			return lambdaInvalid("Version %s is the alias's FunctionVersion and cannot also be an additional version", k)
		}
		if f.version(k) == nil {
			return lambdaNotFound("Function not found: %s:%s", f.arn, k)
		}
	}
	return nil
}

func (l *Service) listAliases(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
	f, _, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	q := r.URL.Query()
	fv := q.Get("FunctionVersion")
	var all []aliasJSON
	for _, name := range awsproto.SortedKeys(f.aliases) {
		a := f.aliases[name]
		_, routed := a.weights[fv]
		if fv == "" || a.functionVersion == fv || routed {
			all = append(all, f.aliasJSON(a))
		}
	}
	lo, hi, next, aerr := lambdaPage(q, len(all))
	if aerr != nil {
		return 0, nil, aerr
	}
	out := struct {
		Aliases    []aliasJSON `json:"Aliases"`
		NextMarker string      `json:"NextMarker,omitempty"`
	}{Aliases: append([]aliasJSON{}, all[lo:hi]...), NextMarker: next}
	return http.StatusOK, out, nil
}
