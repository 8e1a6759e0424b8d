package logs

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// event is one log line.
type event struct {
	at     time.Time
	group  string
	stream string
	msg    string
}

// size is what the line counts toward bytesScanned: its message and the
// fields Logs Insights indexes with it.
func (e event) size() int { return len(e.msg) + len(e.stream) + 26 }

// row is one result row: field name → value, in field order.
type row struct {
	names []string
	vals  map[string]string
}

func (r *row) set(name, v string) {
	if _, ok := r.vals[name]; !ok {
		r.names = append(r.names, name)
	}
	r.vals[name] = v
}

// timestampFormat is how Logs Insights renders @timestamp.
const timestampFormat = "2006-01-02 15:04:05.000"

// stats are a run's statistics.
type stats struct {
	recordsMatched, recordsScanned, bytesScanned float64
}

// run executes q over events (oldest first).
func (q *Query) run(events []event) ([]row, stats) {
	var st stats
	rows := make([]row, 0, len(events))
	for _, e := range events {
		st.recordsScanned++
		st.bytesScanned += float64(e.size())
		r := row{vals: make(map[string]string, 6)}
		r.set("@timestamp", e.at.UTC().Format(timestampFormat))
		r.set("@message", e.msg)
		r.set("@logStream", e.stream)
		r.set("@log", e.group)
		rows = append(rows, r)
	}
	// Newest first unless the query sorts: Logs Insights' order.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	explicitFields := false
	limit := MaxLimit
	for _, c := range q.cmds {
		switch c := c.(type) {
		case filterCmd:
			rows = filterRows(rows, c.expr)
		case parseCmd:
			for i := range rows {
				parseRow(&rows[i], c)
			}
		case fieldsCmd:
			explicitFields = true
			for i := range rows {
				rows[i] = project(rows[i], c)
			}
		case statsCmd:
			st.recordsMatched = float64(len(rows))
			rows = runStats(rows, c)
			explicitFields = true
		case patternCmd:
			st.recordsMatched = float64(len(rows))
			rows = runPattern(rows, c.field)
			explicitFields = true
		case sortCmd:
			sortRows(rows, c)
		case limitCmd:
			limit = min(limit, c.n)
			if len(rows) > limit {
				rows = rows[:limit]
			}
		}
	}
	if st.recordsMatched == 0 {
		st.recordsMatched = float64(len(rows))
	}
	if !explicitFields {
		for i := range rows {
			rows[i] = project(rows[i], fieldsCmd{fields: []string{"@timestamp", "@message"}, aliases: []string{"@timestamp", "@message"}})
		}
	}
	if len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, st
}

func filterRows(rows []row, e expr) []row {
	out := rows[:0]
	for _, r := range rows {
		if e.eval(r.vals) {
			out = append(out, r)
		}
	}
	return out
}

func parseRow(r *row, c parseCmd) {
	v, ok := r.vals[c.field]
	if !ok {
		return
	}
	m := c.re.FindStringSubmatch(v)
	if m == nil {
		return
	}
	for i, name := range c.names {
		r.set(name, m[i+1])
	}
}

func project(r row, c fieldsCmd) row {
	out := row{vals: make(map[string]string, len(c.fields))}
	if !c.display {
		// fields adds to what later commands see; only the display keeps
		// to the named ones. Keep the source fields, listed after.
		for i, f := range c.fields {
			if v, ok := r.vals[f]; ok {
				out.set(c.aliases[i], v)
			}
		}
		for _, n := range r.names {
			if _, ok := out.vals[n]; !ok {
				out.vals[n] = r.vals[n] // available, not displayed
			}
		}
		return out
	}
	for _, f := range c.fields {
		if v, ok := r.vals[f]; ok {
			out.set(f, v)
		}
	}
	return out
}

func runStats(rows []row, c statsCmd) []row {
	type group struct {
		key  []string
		n    int
		seen int
	}
	idx := map[string]*group{}
	var order []*group
	for _, r := range rows {
		key := make([]string, len(c.by))
		for i, f := range c.by {
			key[i] = r.vals[f]
		}
		k := strings.Join(key, "\x00")
		g := idx[k]
		if g == nil {
			g = &group{key: key}
			idx[k] = g
			order = append(order, g)
		}
		g.n++
	}
	out := make([]row, 0, len(order))
	for _, g := range order {
		r := row{vals: map[string]string{}}
		for i, f := range c.by {
			r.set(f, g.key[i])
		}
		for _, name := range c.counts {
			r.set(name, strconv.Itoa(g.n))
		}
		out = append(out, r)
	}
	return out
}

// runPattern groups the field's values by shape, most frequent first.
func runPattern(rows []row, field string) []row {
	type group struct {
		pattern string
		n       int
	}
	idx := map[string]*group{}
	var order []*group
	total := 0
	for _, r := range rows {
		v, ok := r.vals[field]
		if !ok {
			continue
		}
		total++
		p := shape(v)
		g := idx[p]
		if g == nil {
			g = &group{pattern: p}
			idx[p] = g
			order = append(order, g)
		}
		g.n++
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].n > order[j].n })
	out := make([]row, 0, len(order))
	for _, g := range order {
		r := row{vals: map[string]string{}}
		r.set("@pattern", g.pattern)
		r.set("@sampleCount", strconv.Itoa(g.n))
		r.set("@ratio", strconv.FormatFloat(float64(g.n)/float64(total), 'f', 6, 64))
		out = append(out, r)
	}
	return out
}

// shape is the simulator's stand-in for AWS's pattern clustering: every
// whitespace-separated token with a digit in it becomes <*>, which is
// what AWS's dynamic tokens mostly are (ids, numbers, times).
func shape(s string) string {
	f := strings.Fields(s)
	for i, tok := range f {
		if strings.ContainsAny(tok, "0123456789") {
			f[i] = "<*>"
		}
	}
	return strings.Join(f, " ")
}

func sortRows(rows []row, c sortCmd) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].vals[c.field], rows[j].vals[c.field]
		fa, ea := strconv.ParseFloat(a, 64)
		fb, eb := strconv.ParseFloat(b, 64)
		less := a < b
		if ea == nil && eb == nil {
			less = fa < fb
		}
		if c.desc {
			return !less && a != b
		}
		return less
	})
}
