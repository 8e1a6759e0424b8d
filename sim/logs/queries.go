package logs

import (
	"sort"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/ids"
)

// Logs Insights: StartQuery parses and records a query; it runs for
// queryRunTime of simulated time, and reads its lines when it completes
// (at the first GetQueryResults or StopQuery after that).

func (s *Service) startQuery(body []byte) (any, *awsproto.Error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupNames       []string `json:"logGroupNames"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		QueryString         string   `json:"queryString"`
		Limit               int      `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("startTime and endTime are required")
	}
	gs, aerr := s.findGroups(in.LogGroupNames, in.LogGroupIdentifiers, in.LogGroupName)
	if aerr != nil {
		return nil, aerr
	}
	start, end := time.Unix(*in.StartTime, 0), time.Unix(*in.EndTime, 0)
	if end.Before(start) {
		return nil, invalid("endTime is before startTime")
	}
	q, err := ParseQuery(in.QueryString)
	if err != nil {
		return nil, &awsproto.Error{Status: 400, Code: "MalformedQueryException", Message: err.Error(), Sender: true}
	}
	if in.Limit < 0 || in.Limit > MaxLimit {
		return nil, invalid("limit %d is out of range (1..%d)", in.Limit, MaxLimit)
	}
	if in.Limit > 0 {
		q.cmds = append(q.cmds, limitCmd{in.Limit})
	}
	s.pruneQueries()
	id := ids.UUID(s.ids)
	s.queries[id] = &query{id: id, groups: gs, q: q, text: in.QueryString, start: start, end: end, submitted: s.now(), status: "Running"}
	return map[string]string{"queryId": id}, nil
}

func (s *Service) pruneQueries() {
	for id, q := range s.queries {
		if s.now().Sub(q.submitted) > maxQueryAge {
			delete(s.queries, id)
		}
	}
}

// advance finishes q when it has run long enough: the lines are read at
// that moment, as a real query scans what has been ingested by then.
func (s *Service) advance(q *query) {
	if q.status != "Running" || s.now().Before(q.submitted.Add(queryRunTime)) {
		return
	}
	end := q.end
	if n := s.now(); end.After(n) {
		end = n
	}
	var events []event
	for _, g := range q.groups {
		events = append(events, s.eventsBetween(g, q.start, end)...)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	q.rows, q.stats = q.q.run(events)
	q.status = "Complete"
}

func (s *Service) getQueryResults(body []byte) (any, *awsproto.Error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	q := s.queries[in.QueryID]
	if q == nil {
		return nil, notFound("Query %s does not exist", in.QueryID)
	}
	s.advance(q)
	type field struct {
		Field string `json:"field"`
		Value string `json:"value"`
	}
	results := make([][]field, 0, len(q.rows))
	for _, r := range q.rows {
		fs := make([]field, 0, len(r.names))
		for _, n := range r.names {
			fs = append(fs, field{n, r.vals[n]})
		}
		results = append(results, fs)
	}
	return map[string]any{
		"status":  q.status,
		"results": results,
		"statistics": map[string]float64{
			"recordsMatched": q.stats.recordsMatched, "recordsScanned": q.stats.recordsScanned, "bytesScanned": q.stats.bytesScanned,
		},
	}, nil
}

func (s *Service) stopQuery(body []byte) (any, *awsproto.Error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	q := s.queries[in.QueryID]
	if q == nil {
		return nil, notFound("Query %s does not exist", in.QueryID)
	}
	s.advance(q)
	if q.status != "Running" {
		return map[string]bool{"success": false}, nil
	}
	q.status = "Cancelled"
	return map[string]bool{"success": true}, nil
}

// QueryStatus is a query's status, for tests ("" for an unknown id).
func (s *Service) QueryStatus(id string) string {
	if q := s.queries[id]; q != nil {
		s.advance(q)
		return q.status
	}
	return ""
}
