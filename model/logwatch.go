package model

import "time"

// LogQueryResult is one side's finished (or still running) query.
type LogQueryResult struct {
	Done     bool
	Patterns []LogPattern
	// Lines is how many lines the query returned; Truncated says it hit
	// the query's row limit, so the counts are lower bounds.
	Lines        int
	Truncated    bool
	BytesScanned float64
}

// LogsView is what the patterns pane shows: both sides' newest patterns,
// compared per request over the window their queries covered.
type LogsView struct {
	Rows []PatternRow `json:"rows"`
	// From and To are each side's newest query's window; At when it
	// finished (zero: none has yet).
	From     [2]time.Time `json:"from"`
	To       [2]time.Time `json:"to"`
	At       [2]time.Time `json:"at"`
	Requests [2]float64   `json:"requests"`
	// Truncated: a side's query hit its row limit.
	Truncated [2]bool `json:"truncated,omitempty"`
	// BytesScanned is the total over every query this session ran: what
	// Logs Insights bills.
	BytesScanned float64 `json:"bytes_scanned"`
	Queries      int     `json:"queries"`
	// Running counts the queries in flight.
	Running int    `json:"running"`
	Err     string `json:"error,omitempty"`
	// Every is the least time between two queries of one side.
	Every time.Duration `json:"every"`
}

// NewCount is how many rows are marked NEW.
func (v *LogsView) NewCount() int {
	if v == nil {
		return 0
	}
	n := 0
	for _, r := range v.Rows {
		if r.New {
			n++
		}
	}
	return n
}
