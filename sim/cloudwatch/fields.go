package cloudwatch

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/cloudwatch/wire"
)

// cwFields reads members of one request structure, coercing across the
// protocols' representations and remembering the first type error.
type cwFields struct {
	m    map[string]any
	path string
	err  *error
}

func newCWFields(m map[string]any) cwFields {
	var err error
	return cwFields{m: m, err: &err}
}

func (f cwFields) fail(k, format string, args ...any) {
	if *f.err == nil {
		*f.err = cwErrInvalidParam("The parameter %s%s %s.", f.path, k, fmt.Sprintf(format, args...))
	}
}

func (f cwFields) has(k string) bool {
	_, ok := f.m[k]
	return ok
}

func (f cwFields) str(k string) (string, bool) {
	v, ok := f.m[k]
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	default:
		f.fail(k, "must be a string")
		return "", false
	}
}

func (f cwFields) num(k string) (float64, bool) {
	v, ok := f.m[k]
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			f.fail(k, "must be a number")
			return 0, false
		}
		return n, true
	default:
		f.fail(k, "must be a number")
		return 0, false
	}
}

func (f cwFields) integer(k string) (int64, bool) {
	n, ok := f.num(k)
	if !ok {
		return 0, false
	}
	if n != math.Trunc(n) || n > math.MaxInt32 || n < math.MinInt32 {
		f.fail(k, "must be an integer")
		return 0, false
	}
	return int64(n), true
}

func (f cwFields) boolean(k string) (bool, bool) {
	v, ok := f.m[k]
	if !ok {
		return false, false
	}
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	f.fail(k, "must be a boolean")
	return false, false
}

func (f cwFields) time(k string) (time.Time, bool) {
	v, ok := f.m[k]
	if !ok {
		return time.Time{}, false
	}
	switch x := v.(type) {
	case time.Time:
		return x, true
	case float64:
		t, err := wire.EpochToTime(x)
		if err != nil {
			f.fail(k, "is out of range")
			return time.Time{}, false
		}
		return t, true
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC(), true
		}
		if n, err := strconv.ParseFloat(x, 64); err == nil {
			if t, err := wire.EpochToTime(n); err == nil {
				return t, true
			}
		}
	}
	f.fail(k, "must be a timestamp")
	return time.Time{}, false
}

func (f cwFields) list(k string) []any {
	v, ok := f.m[k]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []any:
		return x
	case string:
		if x == "" {
			return nil // awsQuery's way of sending an empty list
		}
	}
	f.fail(k, "must be a list")
	return nil
}

func (f cwFields) obj(k string) (cwFields, bool) {
	v, ok := f.m[k]
	if !ok {
		return cwFields{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.fail(k, "must be a structure")
		return cwFields{}, false
	}
	return cwFields{m: m, path: f.path + k + ".", err: f.err}, true
}

func (f cwFields) objs(k string) []cwFields {
	l := f.list(k)
	out := make([]cwFields, 0, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			f.fail(k, "must be a list of structures")
			return nil
		}
		out = append(out, cwFields{m: m, path: fmt.Sprintf("%s%s.member.%d.", f.path, k, i+1), err: f.err})
	}
	return out
}

func (f cwFields) strs(k string) []string {
	l := f.list(k)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			f.fail(k, "must be a list of strings")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (f cwFields) nums(k string) []float64 {
	l := f.list(k)
	out := make([]float64, 0, len(l))
	for _, e := range l {
		switch x := e.(type) {
		case float64:
			out = append(out, x)
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				f.fail(k, "must be a list of numbers")
				return nil
			}
			out = append(out, n)
		default:
			f.fail(k, "must be a list of numbers")
			return nil
		}
	}
	return out
}
