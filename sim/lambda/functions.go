package lambda

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/perch-dev/perch/sim/awsproto"
)

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

func (l *Service) getFunctionConfiguration(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
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
func (l *Service) listFunctions(r *http.Request, _ lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
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

func (l *Service) listVersions(r *http.Request, req lambdaRequest, _ []byte) (int, any, *awsproto.Error) {
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
func (l *Service) publishVersion(_ *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error) {
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
