// Package sts is the simulated STS: GetCallerIdentity over awsQuery,
// which perch uses to attribute audit entries to a person.
package sts

import (
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/perch-dev/perch/sim/awsproto"
)

const (
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Service answers GetCallerIdentity, which perch uses to attribute
// audit entries to a person.
type Service struct {
	arn     string
	userID  string
	account string
}

// New answers as arn in account, with a UserId derived from seed.
func New(arn, account string, seed int64) *Service {
	// Role sessions have a UserId of "AROA<id>:<session>"; IAM users
	// "AIDA<id>". The id is derived from the seed so runs are reproducible.
	r := rand.New(rand.NewPCG(uint64(seed), 0x575))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var id strings.Builder
	for range 17 {
		id.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	userID := "AIDA" + id.String()
	if strings.Contains(arn, ":assumed-role/") {
		session := arn[strings.LastIndex(arn, "/")+1:]
		userID = "AROA" + id.String() + ":" + session
	}
	if parts := strings.Split(arn, ":"); len(parts) >= 5 && parts[4] != "" {
		account = parts[4]
	}
	return &Service{arn: arn, userID: userID, account: account}
}

func (s *Service) Operation(r *http.Request, body []byte) string {
	return awsproto.QueryAction(r, body)
}

func (s *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	t, aerr := awsproto.ParseQueryRequest(r, body)
	if aerr != nil {
		awsproto.WriteQuery(w, stsNS, "", "", aerr)
		return
	}
	op := t.Str("Action")
	if op != "GetCallerIdentity" {
		awsproto.WriteQuery(w, stsNS, op, "", awsproto.SenderErr("InvalidAction",
			"Could not find operation %s for version %s (the simulator supports GetCallerIdentity)", op, stsVersion))
		return
	}
	var x awsproto.XMLWriter
	x.Elem("Arn", s.arn)
	x.Elem("UserId", s.userID)
	x.Elem("Account", s.account)
	awsproto.WriteQuery(w, stsNS, op, x.String(), nil)
}

// Endpoint routes awsQuery requests of version 2011-06-15.
func (s *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "sts", SigningName: "sts", QueryVersions: []string{stsVersion}}
}
