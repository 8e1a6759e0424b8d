package lambda

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/ids"
)

type Service struct {
	region, account string
	now             func() time.Time
	revs            *rand.Rand
	functions       map[string]*lambdaFunction
	// changed is called after an alias's routing changes, so the traffic
	// model can follow.
	changed func(function, alias string)
	// traffic publishes the AWS/Lambda metrics (StartTraffic).
	traffic *lambdaTraffic
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

// New is an account's Lambda in region, empty until seeded; seed drives
// its RevisionIds and now stamps published versions.
func New(region, account string, seed int64, now func() time.Time) *Service {
	return &Service{
		region: region, account: account, now: now,
		revs:      rand.New(rand.NewPCG(uint64(seed), 0x1a3bda)),
		functions: map[string]*lambdaFunction{},
		changed:   func(string, string) {},
	}
}

// newRevision is a UUID-shaped RevisionId, deterministic for a seed.
func (l *Service) newRevision() string { return ids.UUID(l.revs) }

func (l *Service) functionARN(name string) string {
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

// Endpoint routes restJson1 requests by their path.
func (l *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "lambda", SigningName: "lambda", PathPrefixes: []string{"/2015-03-31/"}}
}
