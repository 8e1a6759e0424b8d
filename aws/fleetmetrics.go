package aws

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/perch-dev/perch/internal/metricmath"
	"github.com/perch-dev/perch/model"
)

// SharedSource is one target's part of a shared metrics poll: its queries
// (Ids unique within the target) and how their results become series.
type SharedSource struct {
	Queries []MetricQuery
	Series  func(got map[string][]model.Point) []model.SeriesData
	// Health, when set, reads each side's host counts from the results
	// (WithHostCounts); nil when they have none.
	Health func(got map[string][]model.Point) *[2]model.Health
}

// SharedFrom makes a target's MetricsReader (an ALB's *Metrics or a
// Lambda alias's *LambdaMetrics) and its custom queries into a
// SharedSource. ok is false for a reader it cannot share.
func SharedFrom(reader any, custom []MetricQuery) (src SharedSource, ok bool) {
	var builtin []MetricQuery
	var series func([]MetricQuery, map[string][]model.Point) []model.SeriesData
	switch m := reader.(type) {
	case *Metrics:
		builtin, series = m.Queries(), SeriesFrom
	case *LambdaMetrics:
		builtin, series = m.Queries(), LambdaSeriesFrom
	default:
		return SharedSource{}, false
	}
	custom = append([]MetricQuery(nil), custom...)
	return SharedSource{
		Queries: append(append([]MetricQuery(nil), builtin...), custom...),
		Series: func(got map[string][]model.Point) []model.SeriesData {
			return append(series(builtin, got), customSeries(custom, got)...)
		},
	}, true
}

// MetricsPool fetches many targets' metrics in as few GetMetricData calls
// as the 500-query limit allows. Targets are grouped by the CloudWatch
// client they were added with (one per region and credentials: a call
// cannot span either), and within a group by window, so a steady fleet
// costs ceil(queries/500) calls per group and poll. A query and the
// queries its expression reads always share a call.
type MetricsPool struct {
	mu      sync.Mutex
	groups  []poolGroup
	byKey   map[string]int
	members []poolMember
}

type poolGroup struct {
	key string
	api cwAPI
}

type poolMember struct {
	group   int
	src     SharedSource
	queries []MetricQuery // Ids prefixed with the member's, expressions renamed
	units   [][]int       // indexes into queries that must share a call
	metrics int           // MetricStat queries: what CloudWatch bills
}

// NewMetricsPool returns an empty pool.
func NewMetricsPool() *MetricsPool { return &MetricsPool{byKey: map[string]int{}} }

// Add registers a target under group key: every target added with the
// same key shares calls through one CloudWatch client, made from cfg when
// the key is first seen. It returns the member's ID for PoolRequest.
func (p *MetricsPool) Add(key string, cfg awssdk.Config, src SharedSource) (int, error) {
	return p.add(key, func() cwAPI { return cloudwatch.NewFromConfig(cfg) }, src)
}

func (p *MetricsPool) add(key string, api func() cwAPI, src SharedSource) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.byKey[key]
	if !ok {
		g = len(p.groups)
		p.groups = append(p.groups, poolGroup{key: key, api: api()})
		p.byKey[key] = g
	}
	id := len(p.members)
	m, err := newPoolMember(g, "t"+strconv.Itoa(id)+"_", src)
	if err != nil {
		return 0, err
	}
	p.members = append(p.members, m)
	return id, nil
}

func newPoolMember(group int, prefix string, src SharedSource) (poolMember, error) {
	m := poolMember{group: group, src: src, queries: make([]MetricQuery, len(src.Queries))}
	if err := checkQueryIDs(src.Queries); err != nil {
		return poolMember{}, err
	}
	index := make(map[string]int, len(src.Queries))
	rename := make(map[string]string, len(src.Queries))
	for i, q := range src.Queries {
		index[q.ID()] = i
		rename[q.ID()] = prefix + q.ID()
	}
	// Union-find over expression references: an expression and what it
	// reads form one unit.
	parent := make([]int, len(src.Queries))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, q := range src.Queries {
		pq := q
		pq.Query.Id = awssdk.String(prefix + q.ID())
		if q.Query.MetricStat != nil {
			m.metrics++
		}
		if q.Query.Expression != nil {
			expr := *q.Query.Expression
			pq.Query.Expression = awssdk.String(metricmath.Rename(expr, rename))
			for _, ref := range metricmath.IDs(expr) {
				if j, ok := index[ref]; ok {
					parent[find(j)] = find(i)
				}
			}
		}
		m.queries[i] = pq
	}
	byRoot := map[int]int{}
	for i := range src.Queries {
		r := find(i)
		u, ok := byRoot[r]
		if !ok {
			u = len(m.units)
			byRoot[r] = u
			m.units = append(m.units, nil)
		}
		m.units[u] = append(m.units[u], i)
	}
	for _, u := range m.units {
		if len(u) > MaxQueriesPerCall {
			return poolMember{}, fmt.Errorf("an expression reads %d queries; one call takes at most %d", len(u), MaxQueriesPerCall)
		}
	}
	return m, nil
}

// Len is how many members the pool has.
func (p *MetricsPool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.members)
}

// QueryCount is how many queries a poll of every member sends, and how
// many of them are metrics CloudWatch bills for.
func (p *MetricsPool) QueryCount() (queries, metrics int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.members {
		queries += len(m.queries)
		metrics += m.metrics
	}
	return queries, metrics
}

// PoolRequest asks for one member's periods starting in [Start, End).
type PoolRequest struct {
	Member     int
	Start, End time.Time
}

// PoolResult is one member's series, or the error of the call it was in.
type PoolResult struct {
	Member int
	Data   []model.SeriesData
	Health *[2]model.Health // host counts, for a member WithHostCounts
	Err    error
}

// Fetch answers every request, sharing calls between requests of the same
// group and window. Results come back in request order. Calls within a
// group run one after another: the point is few calls, not fast ones.
func (p *MetricsPool) Fetch(ctx context.Context, reqs []PoolRequest) ([]PoolResult, model.FetchCost) {
	p.mu.Lock()
	members := p.members
	groups := p.groups
	p.mu.Unlock()

	type bucketKey struct {
		group      int
		start, end int64
	}
	results := make([]PoolResult, len(reqs))
	buckets := map[bucketKey][]int{} // request indexes
	var keys []bucketKey
	for i, r := range reqs {
		results[i].Member = r.Member
		if r.Member < 0 || r.Member >= len(members) {
			results[i].Err = fmt.Errorf("metrics pool: no member %d", r.Member)
			continue
		}
		start, end := alignWindow(r.Start, r.End)
		k := bucketKey{members[r.Member].group, start.UnixNano(), end.UnixNano()}
		if _, ok := buckets[k]; !ok {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], i)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].group != keys[b].group {
			return keys[a].group < keys[b].group
		}
		return keys[a].start < keys[b].start
	})

	// Groups (regions, credentials) at once; a group's calls in turn.
	byGroup := map[int][]bucketKey{}
	var groupOrder []int
	for _, k := range keys {
		if _, ok := byGroup[k.group]; !ok {
			groupOrder = append(groupOrder, k.group)
		}
		byGroup[k.group] = append(byGroup[k.group], k)
	}
	var stats model.FetchCost
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range groupOrder {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range byGroup[g] {
				st := p.fetchBucket(ctx, groups[k.group].api, members, reqs, buckets[k], results,
					time.Unix(0, k.start).UTC(), time.Unix(0, k.end).UTC())
				mu.Lock()
				stats.Add(st)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results, stats
}

// fetchBucket makes one group's calls for one window and fills in the
// results of its requests idx (each request belongs to one bucket, so
// buckets fetched at once write disjoint results).
func (p *MetricsPool) fetchBucket(ctx context.Context, api cwAPI, members []poolMember, reqs []PoolRequest, idx []int, results []PoolResult, start, end time.Time) model.FetchCost {
	var stats model.FetchCost
	all := map[string][]model.Point{}
	failed := map[int]error{}
	for _, c := range packChunks(members, reqs, idx) {
		got, st, err := fetchChunk(ctx, api, c.queries, start, end)
		stats.Add(st)
		if err != nil {
			for _, ri := range c.reqs {
				failed[ri] = err
			}
			continue
		}
		for id, pts := range got {
			all[id] = pts
		}
	}
	for _, ri := range idx {
		if err := failed[ri]; err != nil {
			results[ri].Err = err
			continue
		}
		member := reqs[ri].Member
		m := members[member]
		prefix := "t" + strconv.Itoa(member) + "_"
		own := make(map[string][]model.Point, len(m.src.Queries))
		for _, q := range m.src.Queries {
			if pts, ok := all[prefix+q.ID()]; ok {
				own[q.ID()] = pts
			}
		}
		results[ri].Data = m.src.Series(own)
		if m.src.Health != nil {
			results[ri].Health = m.src.Health(own)
		}
	}
	return stats
}

// chunk is one GetMetricData call's queries and the requests they serve;
// a request whose member was split across calls appears in each, and
// fails if any of them does.
type chunk struct {
	queries []MetricQuery
	reqs    []int
}

// packChunks fills calls in order with whole units: a member may span two
// calls, an expression never does. With only single-query units this is
// exactly ceil(queries/500) calls.
func packChunks(members []poolMember, reqs []PoolRequest, idx []int) []chunk {
	var out []chunk
	cur := chunk{}
	for _, ri := range idx {
		m := members[reqs[ri].Member]
		for _, u := range m.units {
			if len(cur.queries)+len(u) > MaxQueriesPerCall {
				out = append(out, cur)
				cur = chunk{}
			}
			for _, qi := range u {
				cur.queries = append(cur.queries, m.queries[qi])
			}
			if n := len(cur.reqs); n == 0 || cur.reqs[n-1] != ri {
				cur.reqs = append(cur.reqs, ri)
			}
		}
	}
	if len(cur.queries) > 0 {
		out = append(out, cur)
	}
	return out
}
