package rollout

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/internal/broadcast"
	"github.com/perch-dev/perch/model"
)

// SharedMetrics fetches many targets' metrics in shared calls: requests
// that can share a call (same region, credentials and window) do.
type SharedMetrics interface {
	FetchShared(ctx context.Context, reqs []MetricsRequest) ([]MetricsResult, model.FetchCost)
}

// MetricsRequest asks for one member's periods starting in [Start, End).
type MetricsRequest struct {
	Member     int // the member's ID in SharedMetrics
	Start, End time.Time
}

// MetricsResult is one member's series, or why there are none.
type MetricsResult struct {
	Member int
	Data   []model.SeriesData
	Health *[2]model.Health // host counts, when the member's metrics have them
	Err    error
}

// Prices behind the cost estimate (CloudWatch, standard regions): a
// GetMetricData call is billed per metric requested, whatever the window
// or the number of datapoints; other CloudWatch calls (DescribeAlarms) per
// request. ELBv2, Lambda and STS reads are not billed.
const (
	GetMetricDataPerThousandMetrics = 0.01 // USD per 1,000 metrics requested
	CloudWatchPerThousandRequests   = 0.01 // USD per 1,000 API requests
)

// FleetMember is one target of a fleet.
type FleetMember struct {
	Engine *Engine
	// Metrics is the member's ID in FleetConfig.Shared; negative when the
	// target's metrics cannot be shared and its engine fetches its own
	// (a CodeDeploy deployment, whose queries follow the deployment).
	Metrics int
	// OwnMetrics is, for a member that fetches its own, how many metrics
	// each fetch requests: it counts in the cost estimate.
	OwnMetrics int
}

// FleetConfig wires a fleet poller.
type FleetConfig struct {
	Members []FleetMember
	Shared  SharedMetrics
	Clock   clock.Clock
	// Period is the metrics' period; default one minute.
	Period time.Duration
	// PublishDelay is how long after a period ends CloudWatch has its
	// datapoint: metrics polls happen at each period boundary plus this,
	// the first moment a new datapoint can exist. Default 60s.
	PublishDelay time.Duration
	// Lookback is how much before the newest published period each poll
	// reads again, because CloudWatch revises the newest periods late.
	// Default 3m.
	Lookback time.Duration
	// History is what the first poll loads; default 3h.
	History time.Duration
	// Poll is how often the focused member (the one whose cockpit is
	// open) has its routing, health and alarms read between metrics
	// polls; default 10s.
	Poll time.Duration
	// Parallel is how many members are polled at once; default 8.
	Parallel int
	// SnapshotWindow, when set, is how much of each signal the members'
	// snapshots carry while their cockpit is closed: what the fleet view
	// draws. The focused member's snapshots carry everything its cockpit's
	// charts can show. The judge reads everything held either way.
	SnapshotWindow time.Duration
	// Prefetch, when set, makes a metrics poll's shared reads (routing,
	// alarms) for the given members before they are polled, and returns
	// the context each member's poll reads them from. The focused member
	// is never in the list: its cockpit reads everything itself.
	Prefetch func(ctx context.Context, members []int) func(member int) context.Context
	// Calls, when set, reports the AWS calls made so far: all of them, and
	// the CloudWatch ones other than GetMetricData (billed per request).
	Calls func() (all, cloudWatchRequests int64)
	// CallsBy, when set, reports the AWS calls made so far by service.
	CallsBy func() map[string]int64
	Logger  *slog.Logger
}

// FleetStats is what the fleet poller has done and what it costs.
type FleetStats struct {
	Members  int
	Polls    int             // metrics polls so far
	LastPoll time.Time       // the newest metrics poll
	NextPoll time.Time       // when the next one is due
	Last     model.FetchCost // the newest metrics poll's shared fetch
	Total    model.FetchCost
	// Failed is how many members' metrics could not be read at the
	// newest poll.
	Failed int
	// APICallsPerHour counts every AWS call, measured between the two
	// newest metrics polls (0 until there are two).
	APICallsPerHour float64
	// CallsPerMinute is CallsBy's count per service, measured like
	// APICallsPerHour.
	CallsPerMinute map[string]float64
	// MetricsPerHour is GetMetricData's billed metrics at this cadence.
	MetricsPerHour float64
	// CostPerHour estimates the CloudWatch bill in USD per hour: metrics
	// requested plus other CloudWatch requests, at the prices above.
	CostPerHour float64
}

// Fleet polls many engines: one shared metrics fetch per CloudWatch
// period, timed to when a new datapoint can exist, fed into every engine
// with PollFed; the focused engine also has its routing read every Poll.
type Fleet struct {
	cfg  FleetConfig
	busy []sync.Mutex // one poll at a time per member

	mu       sync.Mutex
	from     []time.Time // per member: the next metrics window's start
	stats    FleetStats
	focus    int
	focusCh  chan struct{}
	subs     broadcast.Latest[FleetStats]
	prevAt   time.Time
	prevCall [2]int64
	prevBy   map[string]int64
}

// NewFleet validates the config.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.Clock == nil {
		return nil, errors.New("fleet: no clock")
	}
	if len(cfg.Members) == 0 {
		return nil, errors.New("fleet: no members")
	}
	for _, m := range cfg.Members {
		if m.Engine == nil {
			return nil, errors.New("fleet: a member has no engine")
		}
		if m.Metrics >= 0 && cfg.Shared == nil {
			return nil, errors.New("fleet: a member shares metrics but there is no SharedMetrics")
		}
	}
	if cfg.Period <= 0 {
		cfg.Period = time.Minute
	}
	if cfg.PublishDelay < 0 {
		cfg.PublishDelay = 0
	} else if cfg.PublishDelay == 0 {
		cfg.PublishDelay = 60 * time.Second
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 3 * time.Minute
	}
	if cfg.History <= 0 {
		cfg.History = 3 * time.Hour
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{
		cfg:     cfg,
		busy:    make([]sync.Mutex, len(cfg.Members)),
		from:    make([]time.Time, len(cfg.Members)),
		focus:   -1,
		focusCh: make(chan struct{}, 1),
	}
	f.stats.Members = len(cfg.Members)
	f.stats.NextPoll = cfg.Clock.Now()
	if cfg.SnapshotWindow > 0 {
		for _, m := range cfg.Members {
			m.Engine.SetSnapshotWindow(cfg.SnapshotWindow)
		}
	}
	return f, nil
}

// Engines returns the members' engines in order.
func (f *Fleet) Engines() []*Engine {
	out := make([]*Engine, len(f.cfg.Members))
	for i, m := range f.cfg.Members {
		out[i] = m.Engine
	}
	return out
}

// Stats returns the newest stats.
func (f *Fleet) Stats() FleetStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Subscribe delivers the stats after every metrics poll until cancel; a
// slow reader only misses intermediate ones.
func (f *Fleet) Subscribe() (<-chan FleetStats, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs.Subscribe(f.stats)
}

// Focus names the member whose cockpit is open (-1: none): it gets its
// routing read every Poll, and at once.
func (f *Fleet) Focus(i int) {
	f.mu.Lock()
	if i < -1 || i >= len(f.cfg.Members) {
		i = -1
	}
	was := f.focus
	f.focus = i
	f.mu.Unlock()
	if w := f.cfg.SnapshotWindow; w > 0 && was != i {
		if i >= 0 {
			f.cfg.Members[i].Engine.SetSnapshotWindow(0)
		}
		if was >= 0 {
			f.cfg.Members[was].Engine.SetSnapshotWindow(w)
		}
	}
	select {
	case f.focusCh <- struct{}{}:
	default:
	}
}

func (f *Fleet) focused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.focus
}

// NextMetricsPoll is the first moment after now at which CloudWatch can
// have a datapoint it could not have had at now: a period boundary plus
// the publishing delay.
func NextMetricsPoll(now time.Time, period, delay time.Duration) time.Time {
	return now.Add(-delay).Truncate(period).Add(period + delay)
}

// published is the end of the newest period whose datapoint CloudWatch
// can have at now.
func published(now time.Time, period, delay time.Duration) time.Time {
	return now.Add(-delay).Truncate(period)
}

// Run polls until ctx ends: a metrics poll at once and then at every
// period boundary plus the publishing delay, and the focused member's
// routing every Poll in between.
func (f *Fleet) Run(ctx context.Context) {
	clk := f.cfg.Clock
	f.PollOnce(ctx)
	metricsC := clk.After(f.untilNext())
	var focusC <-chan time.Time
	for {
		i := f.focused()
		var reqC <-chan struct{}
		if i >= 0 {
			reqC = f.cfg.Members[i].Engine.PollRequests()
			if focusC == nil {
				focusC = clk.After(f.cfg.Poll)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-metricsC:
			f.PollOnce(ctx)
			metricsC = clk.After(f.untilNext())
			focusC = nil
		case <-focusC:
			focusC = nil
			f.pollRouting(ctx, i)
		case <-reqC:
			f.pollRouting(ctx, i)
		case <-f.focusCh:
			focusC = nil
			f.pollRouting(ctx, f.focused())
		}
	}
}

func (f *Fleet) untilNext() time.Duration {
	f.mu.Lock()
	next := f.stats.NextPoll
	f.mu.Unlock()
	return max(next.Sub(f.cfg.Clock.Now()), 0)
}

func (f *Fleet) pollRouting(ctx context.Context, i int) {
	if i < 0 || i >= len(f.cfg.Members) || ctx.Err() != nil {
		return
	}
	f.busy[i].Lock()
	defer f.busy[i].Unlock()
	f.cfg.Members[i].Engine.PollFed(ctx, nil)
}

// PollOnce is one metrics poll: every shared member's window in one
// shared fetch, then every engine polled with its part.
func (f *Fleet) PollOnce(ctx context.Context) FleetStats {
	now := f.cfg.Clock.Now()
	end := published(now, f.cfg.Period, f.cfg.PublishDelay)
	feeds, cost := f.fetchShared(ctx, f.requests(now, end))
	ctxFor := f.prefetch(ctx, feeds)
	f.each(func(i int) {
		f.busy[i].Lock()
		defer f.busy[i].Unlock()
		c := ctxFor(i)
		if f.cfg.Members[i].Metrics < 0 {
			f.cfg.Members[i].Engine.PollOnce(c)
			return
		}
		f.cfg.Members[i].Engine.PollFed(c, feeds[i])
	})
	out, failed := f.record(now, end, feeds, cost)
	if failed > 0 {
		f.cfg.Logger.Warn("fleet metrics poll", "failed", failed, "members", len(feeds))
	}
	return out
}

// prefetch runs the shared reads for every member but the focused one,
// whose feed also loses its host counts: the open cockpit reads target
// health itself.
func (f *Fleet) prefetch(ctx context.Context, feeds []*Feed) func(int) context.Context {
	focus := f.focused()
	if focus >= 0 && feeds[focus] != nil {
		fd := *feeds[focus]
		fd.Health = nil
		feeds[focus] = &fd
	}
	if f.cfg.Prefetch == nil {
		return func(int) context.Context { return ctx }
	}
	members := make([]int, 0, len(f.cfg.Members))
	for i := range f.cfg.Members {
		if i != focus {
			members = append(members, i)
		}
	}
	ctxFor := f.cfg.Prefetch(ctx, members)
	return func(i int) context.Context {
		if i == focus {
			return ctx
		}
		return ctxFor(i)
	}
}

// requests are the shared members' metric windows, ending at end.
func (f *Fleet) requests(now, end time.Time) []MetricsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var reqs []MetricsRequest
	for i, m := range f.cfg.Members {
		if m.Metrics < 0 {
			continue
		}
		start := f.from[i]
		if start.IsZero() {
			start = now.Add(-f.cfg.History).Truncate(f.cfg.Period)
		}
		reqs = append(reqs, MetricsRequest{Member: m.Metrics, Start: start, End: end})
	}
	return reqs
}

// fetchShared reads every request in one shared fetch and hands each
// member its feed (nil for members that read their own).
func (f *Fleet) fetchShared(ctx context.Context, reqs []MetricsRequest) ([]*Feed, model.FetchCost) {
	feeds := make([]*Feed, len(f.cfg.Members))
	if len(reqs) == 0 {
		return feeds, model.FetchCost{}
	}
	memberOf := map[int]int{} // SharedMetrics ID -> member index
	for i, m := range f.cfg.Members {
		if m.Metrics >= 0 {
			memberOf[m.Metrics] = i
		}
	}
	results, cost := f.cfg.Shared.FetchShared(ctx, reqs)
	for _, r := range results {
		if i, ok := memberOf[r.Member]; ok {
			feeds[i] = &Feed{Data: r.Data, Health: r.Health, Err: r.Err}
		}
	}
	for i, m := range f.cfg.Members {
		if m.Metrics >= 0 && feeds[i] == nil {
			feeds[i] = &Feed{Err: errors.New("fleet: the shared fetch returned nothing for this target")}
		}
	}
	return feeds, cost
}

// record moves each fed member's window on, updates the stats and
// publishes them.
func (f *Fleet) record(now, end time.Time, feeds []*Feed, cost model.FetchCost) (FleetStats, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	failed := 0
	for i, fd := range feeds {
		switch {
		case fd == nil:
		case fd.Err != nil:
			// Keep the window's start: the next poll reads the gap too.
			failed++
		default:
			f.from[i] = end.Add(-f.cfg.Lookback)
		}
	}
	st := &f.stats
	st.Polls++
	st.LastPoll = now
	st.NextPoll = NextMetricsPoll(now, f.cfg.Period, f.cfg.PublishDelay)
	st.Last = cost
	st.Total.Add(cost)
	st.Failed = failed
	f.costLocked(now, cost)
	out := *st
	f.subs.Publish(out)
	return out, failed
}

// costLocked estimates what this cadence costs per hour.
func (f *Fleet) costLocked(now time.Time, cost model.FetchCost) {
	st := &f.stats
	own := 0
	for _, m := range f.cfg.Members {
		if m.Metrics < 0 {
			own += m.OwnMetrics
		}
	}
	st.MetricsPerHour = float64(cost.Metrics+own) * float64(time.Hour) / float64(f.cfg.Period)
	var cwPerHour float64
	if f.cfg.Calls != nil {
		all, cw := f.cfg.Calls()
		if !f.prevAt.IsZero() && now.After(f.prevAt) {
			per := float64(time.Hour) / float64(now.Sub(f.prevAt))
			st.APICallsPerHour = float64(all-f.prevCall[0]) * per
			cwPerHour = float64(cw-f.prevCall[1]) * per
		}
		var by map[string]int64
		if f.cfg.CallsBy != nil {
			by = f.cfg.CallsBy()
		}
		if !f.prevAt.IsZero() && now.After(f.prevAt) && by != nil {
			per := float64(time.Minute) / float64(now.Sub(f.prevAt))
			st.CallsPerMinute = make(map[string]float64, len(by))
			for k, v := range by {
				st.CallsPerMinute[k] = float64(v-f.prevBy[k]) * per
			}
		}
		f.prevAt, f.prevCall, f.prevBy = now, [2]int64{all, cw}, by
	}
	st.CostPerHour = st.MetricsPerHour/1000*GetMetricDataPerThousandMetrics + cwPerHour/1000*CloudWatchPerThousandRequests
}

// each runs fn for every member, Parallel at a time.
func (f *Fleet) each(fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(f.cfg.Parallel, len(f.cfg.Members)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := range f.cfg.Members {
		work <- i
	}
	close(work)
	wg.Wait()
}
