package cloudwatch

import (
	"math"
	"sort"
	"time"
)

// A small subset of CloudWatch metric math: + - * / on time series and
// constants, parentheses, unary minus, FILL(x, constant), and SUM, AVG, MIN,
// MAX, ABS. Anything else is rejected by name so that a client learns at
// once that the simulator cannot answer it, instead of receiving wrong data.

const (
	cwMaxExprLen   = 2048
	cwMaxExprDepth = 64
	// cwMaxGenerated bounds the points FILL and constants may synthesise in
	// one request, so 500 queries over a long range cannot stall the sim.
	cwMaxGenerated = 10 * cwMaxDatapoints
)

// cwPoint is one value of a result series at a period start (Unix seconds).
type cwPoint struct {
	t int64
	v float64
}

// cwSeries is a time series keyed by period start.
type cwSeries struct {
	period int64
	pts    map[int64]float64
}

func (s *cwSeries) sorted(asc bool) []cwPoint {
	if s == nil {
		return nil
	}
	out := make([]cwPoint, 0, len(s.pts))
	for t, v := range s.pts {
		out = append(out, cwPoint{t, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if asc {
			return out[i].t < out[j].t
		}
		return out[i].t > out[j].t
	})
	return out
}

// cwEval evaluates the queries of one request over one time range.
type cwEval struct {
	c          *Service
	start, end time.Time
	byID       map[string]*cwQuery
	done       map[string]*cwSeries
	visiting   map[string]bool
	generated  int64
}

// evalQueries answers every query (including ReturnData=false inputs) over
// [start, end), resolving expression references in dependency order.
func (c *Service) evalQueries(qs []cwQuery, start, end time.Time) (map[string]*cwSeries, error) {
	e := &cwEval{c: c, start: start, end: end, byID: map[string]*cwQuery{}, done: map[string]*cwSeries{}, visiting: map[string]bool{}}
	for i := range qs {
		e.byID[qs[i].ID] = &qs[i]
	}
	for _, q := range qs {
		if _, err := e.series(q.ID); err != nil {
			return nil, err
		}
	}
	return e.done, nil
}

func (e *cwEval) series(id string) (*cwSeries, error) {
	if s, ok := e.done[id]; ok {
		return s, nil
	}
	q, ok := e.byID[id]
	if !ok {
		return nil, cwErrInvalidParam("Unrecognized identifier %s in expression.", id)
	}
	if e.visiting[id] {
		return nil, cwErrInvalidParam("The expression for %s refers to itself.", id)
	}
	e.visiting[id] = true
	defer delete(e.visiting, id)

	var s *cwSeries
	if q.Stat != nil {
		s = e.c.statSeries(q.Stat, e.start, e.end)
	} else {
		ast, err := cwParseExpr(q.Expression)
		if err != nil {
			return nil, err
		}
		v, err := e.eval(ast, q.Period)
		if err != nil {
			return nil, err
		}
		switch {
		case v.array != nil:
			return nil, cwErrInvalidParam("The expression for %s must return a single time series.", id)
		case v.series == nil:
			period := q.Period
			if period <= 0 {
				period = 60
			}
			if s, err = e.constant(v.s, period); err != nil {
				return nil, err
			}
		default:
			s = v.series
		}
	}
	e.done[id] = s
	return s, nil
}

// constant spreads a scalar over every period of the range, as a constant
// line in a CloudWatch graph.
func (e *cwEval) constant(v float64, period int64) (*cwSeries, error) {
	s := &cwSeries{period: period, pts: map[int64]float64{}}
	if cwBad(v) {
		return s, nil
	}
	err := e.eachPeriod(period, func(t int64) { s.pts[t] = v })
	return s, err
}

func (e *cwEval) eachPeriod(period int64, fn func(int64)) error {
	from := cwAlignDown(e.start.Unix(), period)
	to := e.end.Unix()
	n := (to - from) / period
	if n > cwMaxDatapoints || e.generated+n > cwMaxGenerated {
		return cwErrCombination("The expressions would produce too many datapoints (at most %d per query and %d per request); use a longer period or a shorter range.", cwMaxDatapoints, cwMaxGenerated)
	}
	e.generated += n
	for t := from; t < to; t += period {
		fn(t)
	}
	return nil
}

// cwVal is a scalar, a series or an array of series (function arguments only).
type cwVal struct {
	s      float64
	series *cwSeries
	array  []*cwSeries
}

func (e *cwEval) eval(n cwNode, period int64) (cwVal, error) {
	switch x := n.(type) {
	case cwNum:
		return cwVal{s: float64(x)}, nil
	case cwRef:
		s, err := e.series(string(x))
		if err != nil {
			return cwVal{}, err
		}
		if s == nil {
			s = &cwSeries{period: 60, pts: map[int64]float64{}}
		}
		return cwVal{series: s}, nil
	case cwNeg:
		v, err := e.eval(x.x, period)
		if err != nil {
			return cwVal{}, err
		}
		return cwApply(cwVal{s: -1}, v, '*')
	case cwBin:
		l, err := e.eval(x.l, period)
		if err != nil {
			return cwVal{}, err
		}
		r, err := e.eval(x.r, period)
		if err != nil {
			return cwVal{}, err
		}
		return cwApply(l, r, x.op)
	case cwArray:
		var arr []*cwSeries
		for _, item := range x {
			v, err := e.eval(item, period)
			if err != nil {
				return cwVal{}, err
			}
			switch {
			case v.array != nil:
				arr = append(arr, v.array...)
			case v.series != nil:
				arr = append(arr, v.series)
			default:
				return cwVal{}, cwErrInvalidParam("An array in an expression may hold only time series.")
			}
		}
		return cwVal{array: arr}, nil
	case cwCall:
		return e.call(x, period)
	}
	return cwVal{}, cwErrInvalidParam("Invalid expression.")
}

func (e *cwEval) call(x cwCall, period int64) (cwVal, error) {
	args := make([]cwVal, len(x.args))
	for i, a := range x.args {
		v, err := e.eval(a, period)
		if err != nil {
			return cwVal{}, err
		}
		args[i] = v
	}
	switch x.fn {
	case "FILL":
		if len(args) != 2 || args[1].series != nil || args[1].array != nil {
			return cwVal{}, cwErrInvalidParam("FILL takes a time series and a constant (REPEAT and LINEAR are not supported by this simulator).")
		}
		fill := func(s *cwSeries) (*cwSeries, error) {
			p := s.period
			if period > 0 {
				p = period
			}
			out := &cwSeries{period: p, pts: map[int64]float64{}}
			err := e.eachPeriod(p, func(t int64) {
				if v, ok := s.pts[t]; ok {
					out.pts[t] = v
				} else {
					out.pts[t] = args[1].s
				}
			})
			return out, err
		}
		switch {
		case args[0].series != nil:
			s, err := fill(args[0].series)
			return cwVal{series: s}, err
		case args[0].array != nil:
			arr := make([]*cwSeries, len(args[0].array))
			for i, s := range args[0].array {
				var err error
				if arr[i], err = fill(s); err != nil {
					return cwVal{}, err
				}
			}
			return cwVal{array: arr}, nil
		}
		return cwVal{}, cwErrInvalidParam("FILL takes a time series as its first argument.")
	case "ABS":
		if len(args) != 1 {
			return cwVal{}, cwErrInvalidParam("ABS takes one argument.")
		}
		return cwMap(args[0], math.Abs), nil
	case "SUM", "AVG", "MIN", "MAX":
		if len(args) != 1 {
			return cwVal{}, cwErrInvalidParam("%s takes one argument.", x.fn)
		}
		return cwReduce(x.fn, args[0]), nil
	}
	return cwVal{}, cwErrInvalidParam("Unsupported function %s in expression.", x.fn)
}

func cwMap(v cwVal, fn func(float64) float64) cwVal {
	one := func(s *cwSeries) *cwSeries {
		out := &cwSeries{period: s.period, pts: make(map[int64]float64, len(s.pts))}
		for t, x := range s.pts {
			out.pts[t] = fn(x)
		}
		return out
	}
	switch {
	case v.series != nil:
		return cwVal{series: one(v.series)}
	case v.array != nil:
		arr := make([]*cwSeries, len(v.array))
		for i, s := range v.array {
			arr[i] = one(s)
		}
		return cwVal{array: arr}
	}
	return cwVal{s: fn(v.s)}
}

// cwReduce follows CloudWatch: over an array it reduces across series at
// each timestamp; over one series it reduces the series to a scalar.
func cwReduce(fn string, v cwVal) cwVal {
	agg := func(xs []float64) float64 {
		if len(xs) == 0 {
			return math.NaN()
		}
		r := xs[0]
		switch fn {
		case "SUM", "AVG":
			r = 0
			for _, x := range xs {
				r += x
			}
			if fn == "AVG" {
				r /= float64(len(xs))
			}
		case "MIN":
			for _, x := range xs {
				r = math.Min(r, x)
			}
		case "MAX":
			for _, x := range xs {
				r = math.Max(r, x)
			}
		}
		return r
	}
	switch {
	case v.array != nil:
		if len(v.array) == 0 {
			return cwVal{series: &cwSeries{period: 60, pts: map[int64]float64{}}}
		}
		byT := map[int64][]float64{}
		for _, s := range v.array {
			for t, x := range s.pts {
				byT[t] = append(byT[t], x)
			}
		}
		out := &cwSeries{period: v.array[0].period, pts: map[int64]float64{}}
		for t, xs := range byT {
			out.pts[t] = agg(xs)
		}
		return cwVal{series: out}
	case v.series != nil:
		xs := make([]float64, 0, len(v.series.pts))
		for _, p := range v.series.sorted(true) {
			xs = append(xs, p.v)
		}
		return cwVal{s: agg(xs)}
	}
	return v
}

// cwApply combines two values; series align on timestamps and a point
// missing on either side is missing in the result (hence FILL). Results that
// are not finite, such as division by zero, are dropped.
func cwApply(l, r cwVal, op byte) (cwVal, error) {
	f := func(a, b float64) float64 {
		switch op {
		case '+':
			return a + b
		case '-':
			return a - b
		case '*':
			return a * b
		}
		return a / b
	}
	if l.array != nil || r.array != nil {
		if l.array != nil && r.array == nil && r.series == nil {
			return cwMap(l, func(x float64) float64 { return f(x, r.s) }), nil
		}
		if r.array != nil && l.array == nil && l.series == nil {
			return cwMap(r, func(x float64) float64 { return f(l.s, x) }), nil
		}
		return cwVal{}, cwErrInvalidParam("Arithmetic between arrays and time series is not supported by this simulator.")
	}
	switch {
	case l.series == nil && r.series == nil:
		return cwVal{s: f(l.s, r.s)}, nil
	case l.series == nil:
		return cwVal{series: cwFinite(cwMap(r, func(x float64) float64 { return f(l.s, x) }).series)}, nil
	case r.series == nil:
		return cwVal{series: cwFinite(cwMap(l, func(x float64) float64 { return f(x, r.s) }).series)}, nil
	}
	out := &cwSeries{period: l.series.period, pts: map[int64]float64{}}
	for t, a := range l.series.pts {
		if b, ok := r.series.pts[t]; ok {
			out.pts[t] = f(a, b)
		}
	}
	return cwVal{series: cwFinite(out)}, nil
}

func cwFinite(s *cwSeries) *cwSeries {
	for t, v := range s.pts {
		if cwBad(v) {
			delete(s.pts, t)
		}
	}
	return s
}

// ---- parsing ----
