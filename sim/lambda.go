package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/scenario"
)

// The simulated Lambda control plane: functions, published versions and
// aliases with weighted routing, over restJson1 (/2015-03-31/functions/...).
// It serves what a canary operator needs: GetAlias, UpdateAlias (with
// RevisionId compare-and-set), ListAliases, ListVersionsByFunction,
// GetFunctionConfiguration and PublishVersion.

const lambdaPathPrefix = "/2015-03-31/functions"

// lambdaMaxPage is how many items Lambda returns per page whatever MaxItems
// asks for.
const lambdaMaxPage = 50

type lambdaService struct {
	region, account string
	now             func() time.Time
	revs            *rand.Rand
	functions       map[string]*lambdaFunction
	// changed is called after an alias's routing changes, so the traffic
	// model can follow.
	changed func(function, alias string)
}

type lambdaFunction struct {
	name, arn, role string
	latest          *lambdaVersion
	versions        []*lambdaVersion // versions[i] is version i+1
	aliases         map[string]*lambdaAlias
}

type lambdaVersion struct {
	version      string
	codeSha256   string
	codeSize     int64
	description  string
	state        string
	lastModified time.Time
	revisionID   string
}

type lambdaAlias struct {
	name, description, functionVersion string
	weights                            map[string]float64
	revisionID                         string
}

func newLambda(region, account string, seed int64, now func() time.Time) *lambdaService {
	return &lambdaService{
		region: region, account: account, now: now,
		revs:      rand.New(rand.NewPCG(uint64(seed), 0x1a3bda)),
		functions: map[string]*lambdaFunction{},
		changed:   func(string, string) {},
	}
}

// newRevision is a UUID-shaped RevisionId, deterministic for a seed.
func (l *lambdaService) newRevision() string { return ids.UUID(l.revs) }

func (l *lambdaService) functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", l.region, l.account, name)
}

func (f *lambdaFunction) version(v string) *lambdaVersion {
	if v == "$LATEST" {
		return f.latest
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > len(f.versions) || strconv.Itoa(n) != v {
		return nil
	}
	return f.versions[n-1]
}

// lambdaRequest is a parsed restJson1 path.
type lambdaRequest struct {
	op       string
	function string // as given: name, ARN or partial ARN, maybe qualified
	alias    string
}

// parseLambdaPath maps method and path to an operation. Path labels are
// percent-encoded by the SDK (an ARN's colons arrive as %3A).
func parseLambdaPath(r *http.Request) lambdaRequest {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), lambdaPathPrefix)
	if !ok {
		return lambdaRequest{}
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		if r.Method == http.MethodGet {
			return lambdaRequest{op: "ListFunctions"}
		}
		return lambdaRequest{}
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return lambdaRequest{}
		}
		segs[i] = u
	}
	req := lambdaRequest{function: segs[0]}
	m := r.Method
	switch {
	case len(segs) == 1 && m == http.MethodGet:
		req.op = "GetFunction"
	case len(segs) == 2 && segs[1] == "configuration" && m == http.MethodGet:
		req.op = "GetFunctionConfiguration"
	case len(segs) == 2 && segs[1] == "configuration" && m == http.MethodPut:
		req.op = "UpdateFunctionConfiguration"
	case len(segs) == 2 && segs[1] == "aliases" && m == http.MethodGet:
		req.op = "ListAliases"
	case len(segs) == 2 && segs[1] == "aliases" && m == http.MethodPost:
		req.op = "CreateAlias"
	case len(segs) == 3 && segs[1] == "aliases":
		req.alias = segs[2]
		switch m {
		case http.MethodGet:
			req.op = "GetAlias"
		case http.MethodPut:
			req.op = "UpdateAlias"
		case http.MethodDelete:
			req.op = "DeleteAlias"
		}
	case len(segs) == 2 && segs[1] == "versions" && m == http.MethodGet:
		req.op = "ListVersionsByFunction"
	case len(segs) == 2 && segs[1] == "versions" && m == http.MethodPost:
		req.op = "PublishVersion"
	}
	return req
}

func (l *lambdaService) Operation(r *http.Request, _ []byte) string {
	return parseLambdaPath(r).op
}

type lambdaHandler func(l *lambdaService, r *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error)

var lambdaOps = map[string]lambdaHandler{
	"GetAlias":                 (*lambdaService).getAlias,
	"UpdateAlias":              (*lambdaService).updateAlias,
	"ListAliases":              (*lambdaService).listAliases,
	"ListVersionsByFunction":   (*lambdaService).listVersions,
	"ListFunctions":            (*lambdaService).listFunctions,
	"GetFunctionConfiguration": (*lambdaService).getFunctionConfiguration,
	"PublishVersion":           (*lambdaService).publishVersion,
}

func (l *lambdaService) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	req := parseLambdaPath(r)
	h := lambdaOps[req.op]
	if h == nil {
		what := req.op
		if what == "" {
			what = r.Method + " " + r.URL.Path
		}
		writeLambda(w, 0, nil, &awsproto.Error{Status: 404, Code: "UnknownOperationException",
			Message: fmt.Sprintf("the simulator does not serve %s (it has %s)", what, strings.Join(awsproto.SortedKeys(lambdaOps), ", ")), Sender: true})
		return
	}
	status, out, aerr := h(l, r, req, body)
	writeLambda(w, status, out, aerr)
}

// writeLambda answers in Lambda's shape. Errors carry the code in
// X-Amzn-ErrorType, which the SDK reads first to pick the typed error, and
// a body {"Type": "User"|"Service", "message": ...}.
func writeLambda(w http.ResponseWriter, status int, out any, aerr *awsproto.Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if aerr != nil {
		h.Set("X-Amzn-Errortype", aerr.Code)
		body := map[string]string{"Type": "Service", "message": aerr.Message}
		if aerr.Sender {
			body["Type"] = "User"
		}
		if aerr.Status == http.StatusTooManyRequests {
			h.Set("Retry-After", "1")
			body["Reason"] = "CallerRateLimitExceeded"
		}
		w.WriteHeader(aerr.Status)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func lambdaNotFound(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 404, Code: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...), Sender: true}
}

func lambdaInvalid(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "InvalidParameterValueException", Message: fmt.Sprintf(format, args...), Sender: true}
}

// lambdaValidation is the framework's model-constraint error, which Lambda
// does not model (the SDK returns it as a GenericAPIError).
func lambdaValidation(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "ValidationException",
		Message: "1 validation error detected: " + fmt.Sprintf(format, args...), Sender: true}
}

var (
	functionIDPattern = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:|(\d{12}):function:)?([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)
	versionPattern    = regexp.MustCompile(`^(\$LATEST|[0-9]{1,10})$`)
	routingKeyPattern = regexp.MustCompile(`^[0-9]{1,10}$`)
)

// resolveFunction finds a function named by name, full ARN or partial
// ARN, and returns the qualifier the identifier carried ("" if none).
func (l *lambdaService) resolveFunction(id string) (*lambdaFunction, string, *awsproto.Error) {
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

func (l *lambdaService) findAlias(f *lambdaFunction, name string) (*lambdaAlias, *awsproto.Error) {
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

func (l *lambdaService) getAlias(_ *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
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

func (l *lambdaService) updateAlias(_ *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error) {
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

// setAlias validates and applies a new target for an alias the way
// UpdateAlias does, with a new RevisionId.
func (l *lambdaService) setAlias(f *lambdaFunction, a *lambdaAlias, fv string, weights map[string]float64) *awsproto.Error {
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
func (l *lambdaService) checkRouting(f *lambdaFunction, fv string, weights map[string]float64) *awsproto.Error {
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

func (l *lambdaService) listAliases(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
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

// lambdaPage applies Marker/MaxItems; at most lambdaMaxPage items are
// returned per page whatever MaxItems says, as Lambda does.
func lambdaPage(q url.Values, n int) (lo, hi int, next string, aerr *awsproto.Error) {
	size := lambdaMaxPage
	if s := q.Get("MaxItems"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 10000 {
			return 0, 0, "", lambdaValidation("Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", s)
		}
		size = min(v, lambdaMaxPage)
	}
	if m := q.Get("Marker"); m != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(m, "sim-"))
		if err != nil || !strings.HasPrefix(m, "sim-") || v < 0 || v > n {
			return 0, 0, "", lambdaInvalid("Invalid marker: %s", m)
		}
		lo = v
	}
	hi = min(lo+size, n)
	if hi < n {
		next = "sim-" + strconv.Itoa(hi)
	}
	return lo, hi, next, nil
}

// configJSON is FunctionConfiguration, with the fields Lambda always sends.
type configJSON struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	TracingConfig    map[string]string `json:"TracingConfig"`
	RevisionId       string            `json:"RevisionId"`
	State            string            `json:"State"`
	StateReason      string            `json:"StateReason,omitempty"`
	StateReasonCode  string            `json:"StateReasonCode,omitempty"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
}

func (f *lambdaFunction) configJSON(v *lambdaVersion, qualifiedARN bool) configJSON {
	arn := f.arn
	if qualifiedARN {
		arn += ":" + v.version
	}
	c := configJSON{
		FunctionName: f.name, FunctionArn: arn, Runtime: "provided.al2023", Role: f.role, Handler: "bootstrap",
		CodeSize: v.codeSize, Description: v.description, Timeout: 30, MemorySize: 512,
		// Lambda's own timestamp format, not RFC 3339.
		LastModified: v.lastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		CodeSha256:   v.codeSha256, Version: v.version, TracingConfig: map[string]string{"Mode": "PassThrough"},
		RevisionId: v.revisionID, State: v.state, LastUpdateStatus: "Successful", PackageType: "Zip",
		Architectures: []string{"arm64"}, EphemeralStorage: map[string]int{"Size": 512},
	}
	switch v.state {
	case "Pending":
		c.StateReason, c.StateReasonCode = "The function is being created.", "Creating"
	case "Failed":
		c.StateReason, c.StateReasonCode = "The function could not be created: its code is invalid.", "InvalidZipFileException"
	case "Inactive":
		c.StateReason, c.StateReasonCode = "The function is inactive and will be activated on the next invocation.", "Idle"
	}
	return c
}

func (l *lambdaService) getFunctionConfiguration(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
	f, fromName, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	q := r.URL.Query().Get("Qualifier")
	if fromName != "" && q != "" && fromName != q {
		return 0, nil, lambdaInvalid("The derived qualifier from the function name does not match the specified qualifier.")
	}
	if q == "" {
		q = fromName
	}
	if q == "" {
		return http.StatusOK, f.configJSON(f.latest, false), nil
	}
	v := f.version(q)
	if v == nil {
		if a := f.aliases[q]; a != nil {
			v = f.version(a.functionVersion)
		}
	}
	if v == nil {
		return 0, nil, lambdaNotFound("Function not found: %s:%s", f.arn, q)
	}
	return http.StatusOK, f.configJSON(v, true), nil
}

// listFunctions lists every function's $LATEST configuration, paged.
func (l *lambdaService) listFunctions(r *http.Request, _ lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
	q := r.URL.Query()
	names := awsproto.SortedKeys(l.functions)
	lo, hi, next, aerr := lambdaPage(q, len(names))
	if aerr != nil {
		return 0, nil, aerr
	}
	out := struct {
		Functions  []configJSON `json:"Functions"`
		NextMarker string       `json:"NextMarker,omitempty"`
	}{Functions: []configJSON{}, NextMarker: next}
	for _, n := range names[lo:hi] {
		f := l.functions[n]
		out.Functions = append(out.Functions, f.configJSON(f.latest, false))
	}
	return http.StatusOK, out, nil
}

func (l *lambdaService) listVersions(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
	f, _, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	all := append([]*lambdaVersion{f.latest}, f.versions...)
	lo, hi, next, aerr := lambdaPage(r.URL.Query(), len(all))
	if aerr != nil {
		return 0, nil, aerr
	}
	out := struct {
		Versions   []configJSON `json:"Versions"`
		NextMarker string       `json:"NextMarker,omitempty"`
	}{Versions: []configJSON{}, NextMarker: next}
	for _, v := range all[lo:hi] {
		out.Versions = append(out.Versions, f.configJSON(v, true))
	}
	return http.StatusOK, out, nil
}

// publishVersion publishes $LATEST when its code differs from the newest
// version; otherwise, as Lambda does, it returns the newest version.
func (l *lambdaService) publishVersion(_ *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error) {
	var in struct {
		CodeSha256  *string
		Description *string
		RevisionId  *string
	}
	if aerr := decodeLambdaBody(body, &in); aerr != nil {
		return 0, nil, aerr
	}
	f, q, aerr := l.resolveFunction(req.function)
	if aerr != nil {
		return 0, nil, aerr
	}
	if q != "" {
		return 0, nil, lambdaInvalid("PublishVersion does not take a qualified function name (%s)", req.function)
	}
	if in.RevisionId != nil && *in.RevisionId != f.latest.revisionID {
		return 0, nil, &awsproto.Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
			Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
			Sender:  true}
	}
	if in.CodeSha256 != nil && *in.CodeSha256 != f.latest.codeSha256 {
		return 0, nil, lambdaInvalid("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.",
			*in.CodeSha256, f.latest.codeSha256)
	}
	if n := len(f.versions); n > 0 && f.versions[n-1].codeSha256 == f.latest.codeSha256 {
		return http.StatusCreated, f.configJSON(f.versions[n-1], true), nil
	}
	v := *f.latest
	v.version = strconv.Itoa(len(f.versions) + 1)
	v.lastModified = l.now()
	v.revisionID = l.newRevision()
	if in.Description != nil {
		v.description = *in.Description
	}
	f.versions = append(f.versions, &v)
	return http.StatusCreated, f.configJSON(&v, true), nil
}

// AliasState is an alias's routing as the simulator holds it.
type AliasState struct {
	FunctionVersion string
	Weights         map[string]float64
	RevisionID      string
}

// Alias returns an alias's current routing, for tests that check what a
// write did without going through the API.
func (s *Sim) Alias(function, alias string) (AliasState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.lambda.functions[function]
	if f == nil || f.aliases[alias] == nil {
		return AliasState{}, fmt.Errorf("alias %s:%s: not found", function, alias)
	}
	a := f.aliases[alias]
	w := map[string]float64{}
	for k, v := range a.weights {
		w[k] = v
	}
	return AliasState{FunctionVersion: a.functionVersion, Weights: w, RevisionID: a.revisionID}, nil
}

// SetAliasRouting points an alias at functionVersion with weights, the
// way a second operator working behind perch's back would: Lambda's rules
// apply and the RevisionId changes.
func (s *Sim) SetAliasRouting(function, alias, functionVersion string, weights map[string]float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	f := s.lambda.functions[function]
	if f == nil {
		return fmt.Errorf("set routing of %s:%s: function not found", function, alias)
	}
	a, aerr := s.lambda.findAlias(f, alias)
	if aerr != nil {
		return fmt.Errorf("set routing of %s:%s: %w", function, alias, aerr)
	}
	if aerr := s.lambda.setAlias(f, a, functionVersion, weights); aerr != nil {
		return fmt.Errorf("set routing of %s:%s: %w", function, alias, aerr)
	}
	return nil
}

// SetVersionState sets a published version's State (Active, Pending,
// Inactive, Failed), so tests can make a side look unable to serve.
func (s *Sim) SetVersionState(function, version, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !scenario.ValidLambdaState(state) {
		return fmt.Errorf("set state of %s:%s: %q is not Active, Pending, Inactive or Failed", function, version, state)
	}
	f := s.lambda.functions[function]
	if f == nil {
		return fmt.Errorf("set state of %s:%s: function not found", function, version)
	}
	v := f.version(version)
	if v == nil {
		return fmt.Errorf("set state of %s:%s: version not found", function, version)
	}
	v.state = state
	return nil
}

// sortedVersions orders version keys numerically ($LATEST first).
func sortedVersions(m map[string]float64) []string {
	keys := awsproto.SortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		if errA != nil || errB != nil {
			return errA != nil && errB == nil
		}
		return a < b
	})
	return keys
}

// decodeLambdaBody reads an optional JSON request body, answering a
// malformed one the way Lambda does.
func decodeLambdaBody(body []byte, into any) *awsproto.Error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return &awsproto.Error{Status: 400, Code: "InvalidRequestContentException",
			Message: "Could not parse request body into json: " + err.Error(), Sender: true}
	}
	return nil
}

// Endpoint routes restJson1 requests by their path.
func (l *lambdaService) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "lambda", SigningName: "lambda", PathPrefixes: []string{"/2015-03-31/"}}
}
