// Package logs is the simulated CloudWatch Logs: log groups whose lines
// the canaries' two sides write as the traffic models serve requests, and
// Logs Insights queries over them (StartQuery, GetQueryResults, StopQuery)
// in the subset of the query language query.go documents, over
// awsJson1.1 (X-Amz-Target Logs_20140328.<Op>).
//
// Lines are not stored: a period's lines are drawn, when a query or
// FilterLogEvents covers it, from the period's published request and error
// counts (deps.go) and the scenario's logs section, seeded by (seed,
// source, period), so they are the same however often they are read.
package logs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/ids"
)

const targetPrefix = "Logs_20140328."

// queryRunTime is how long a query runs in simulated time before it is
// Complete: long enough that a client must poll GetQueryResults (and
// StopQuery has something to stop), short against any poll interval.
const queryRunTime = 2 * time.Second

// maxQueryAge is how long a finished query's results can be fetched.
const maxQueryAge = 7 * 24 * time.Hour

type group struct {
	name    string
	created time.Time
	sources []*source
}

type query struct {
	id         string
	groups     []*group
	q          *Query
	text       string
	start, end time.Time
	submitted  time.Time
	status     string // Running until done, or Cancelled
	rows       []row
	stats      stats
}

// Service is the simulated CloudWatch Logs. The Sim's mutex guards it.
type Service struct {
	now     func() time.Time
	counts  Counts
	seed    int64
	start   time.Time
	history time.Duration
	region  string
	account string
	groups  map[string]*group
	queries map[string]*query
	ids     *rand.Rand
}

// New builds the service; lines exist from start-history on.
func New(region, account string, seed int64, now func() time.Time, counts Counts, start time.Time, history time.Duration) *Service {
	return &Service{now: now, counts: counts, seed: seed, start: start, history: history, region: region, account: account,
		groups: map[string]*group{}, queries: map[string]*query{}, ids: ids.NewSource(seed, "logs-queries").Rand()}
}

// Endpoint routes awsJson1.1 requests by X-Amz-Target; SigV4 signs as "logs".
func (s *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "logs", SigningName: "logs", TargetPrefixes: []string{targetPrefix}}
}

type handler = func(s *Service, body []byte) (any, *awsproto.Error)

var ops = map[string]handler{
	"DescribeLogGroups": (*Service).describeLogGroups,
	"FilterLogEvents":   (*Service).filterLogEvents,
	"StartQuery":        (*Service).startQuery,
	"GetQueryResults":   (*Service).getQueryResults,
	"StopQuery":         (*Service).stopQuery,
}

func (s *Service) Operation(r *http.Request, _ []byte) string {
	return awsproto.JSONOperation(r, targetPrefix)
}

func (s *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	awsproto.ServeJSON(w, s, "CloudWatch Logs", s.Operation(r, body), body, ops)
}

func invalid(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "InvalidParameterException", Message: fmt.Sprintf(format, args...), Sender: true}
}

func notFound(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...), Sender: true}
}

func decode(body []byte, v any) *awsproto.Error {
	if err := json.Unmarshal(body, v); err != nil {
		return &awsproto.Error{Status: 400, Code: "SerializationException", Message: fmt.Sprintf("could not parse the request body: %v", err), Sender: true}
	}
	return nil
}

func (s *Service) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", s.region, s.account, name)
}

func (s *Service) describeLogGroups(body []byte) (any, *awsproto.Error) {
	var in struct {
		LogGroupNamePrefix string `json:"logGroupNamePrefix"`
		Limit              int    `json:"limit"`
		NextToken          string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Limit < 0 || in.Limit > 50 {
		return nil, invalid("limit %d is out of range (1..50)", in.Limit)
	}
	names := awsproto.SortedKeys(s.groups)
	type lg struct {
		LogGroupName string `json:"logGroupName"`
		Arn          string `json:"arn"`
		CreationTime int64  `json:"creationTime"`
		StoredBytes  int64  `json:"storedBytes"`
		LogGroupArn  string `json:"logGroupArn"`
		Class        string `json:"logGroupClass"`
	}
	var out []lg
	for _, n := range names {
		if !strings.HasPrefix(n, in.LogGroupNamePrefix) || (in.NextToken != "" && n <= in.NextToken) {
			continue
		}
		g := s.groups[n]
		out = append(out, lg{LogGroupName: n, Arn: s.groupARN(n) + ":*", LogGroupArn: s.groupARN(n),
			CreationTime: g.created.UnixMilli(), Class: "STANDARD"})
	}
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	resp := map[string]any{}
	if len(out) > limit {
		out = out[:limit]
		resp["nextToken"] = out[limit-1].LogGroupName
	}
	if out == nil {
		out = []lg{}
	}
	resp["logGroups"] = out
	return resp, nil
}

// findGroups resolves names or identifiers (a name or an ARN).
func (s *Service) findGroups(names, identifiers []string, single string) ([]*group, *awsproto.Error) {
	all := append(append([]string(nil), names...), identifiers...)
	if single != "" {
		all = append(all, single)
	}
	if len(all) == 0 {
		return nil, invalid("a log group name or identifier is required")
	}
	if len(all) > 50 {
		return nil, invalid("at most 50 log groups per query, got %d", len(all))
	}
	var out []*group
	for _, n := range all {
		if i := strings.Index(n, ":log-group:"); i >= 0 {
			n = strings.TrimSuffix(n[i+len(":log-group:"):], ":*")
		}
		g := s.groups[n]
		if g == nil {
			return nil, notFound("Log group '%s' does not exist for account ID '%s'", n, s.account)
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Service) filterLogEvents(body []byte) (any, *awsproto.Error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		LogStreamNames      []string `json:"logStreamNames"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		Limit               int      `json:"limit"`
		NextToken           string   `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	gs, aerr := s.findGroups(nil, nil, firstNonEmpty(in.LogGroupName, in.LogGroupIdentifier))
	if aerr != nil {
		return nil, aerr
	}
	now := s.now()
	start, end := now.Add(-time.Hour), now
	if in.StartTime != nil {
		start = time.UnixMilli(*in.StartTime)
	}
	if in.EndTime != nil {
		end = time.UnixMilli(*in.EndTime)
	}
	if end.After(now) {
		end = now
	}
	if in.Limit < 0 || in.Limit > 10000 {
		return nil, invalid("limit %d is out of range (1..10000)", in.Limit)
	}
	limit := in.Limit
	if limit == 0 {
		limit = 10000
	}
	skip := 0
	if in.NextToken != "" {
		if _, err := fmt.Sscanf(in.NextToken, "skip-%d", &skip); err != nil || skip < 0 {
			return nil, invalid("the next token %q is not one this endpoint issued", in.NextToken)
		}
	}
	terms := strings.Fields(in.FilterPattern)
	type ev struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
	}
	out := []ev{}
	matched := 0
	for _, e := range s.eventsBetween(gs[0], start, end) {
		if !streamMatches(e.stream, in.LogStreamNamePrefix, in.LogStreamNames) || !termsMatch(e.msg, terms) {
			continue
		}
		matched++
		if matched <= skip || len(out) >= limit {
			continue
		}
		out = append(out, ev{LogStreamName: e.stream, Timestamp: e.at.UnixMilli(), Message: e.msg,
			IngestionTime: e.at.UnixMilli() + 200, EventID: fmt.Sprintf("%d%08d", e.at.UnixMilli(), matched)})
	}
	resp := map[string]any{"events": out, "searchedLogStreams": []any{}}
	if matched > skip+len(out) {
		resp["nextToken"] = fmt.Sprintf("skip-%d", skip+len(out))
	}
	return resp, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func streamMatches(stream, prefix string, names []string) bool {
	if len(names) > 0 {
		for _, n := range names {
			if n == stream {
				return true
			}
		}
		return false
	}
	return strings.HasPrefix(stream, prefix)
}

// termsMatch is filter-pattern matching for plain terms (every term must
// appear; "quoted phrases" as one): the subset a person types.
func termsMatch(msg string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(msg, strings.Trim(t, `"`)) {
			return false
		}
	}
	return true
}
