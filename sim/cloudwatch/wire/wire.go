// Package wire is the simulated CloudWatch's three wire protocols (Smithy
// RPCv2 CBOR, awsJson1.0 and awsQuery), behind one model: each request body
// is decoded into a generic tree (map[string]any, []any, string, float64,
// bool, time.Time) and each response is built as an ordered tree (Obj) that
// three encoders render. Operation code never sees the wire format.
package wire

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Protocol identifies the wire protocol a request arrived in; the response
// must use the same one.
type Protocol int

const (
	Query Protocol = iota
	JSON
	CBOR
)

const (
	ServiceName = "GraniteServiceVersion20100801"
	CBORPrefix  = "/service/" + ServiceName + "/operation/"
	XMLNS       = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	APIVersion  = "2010-08-01"
)

// DetectProtocol decides by path and headers first, because a CBOR or JSON
// body can never be mistaken for a form, and falls back to awsQuery.
func DetectProtocol(path string, header func(string) string) Protocol {
	if strings.HasPrefix(path, CBORPrefix) || strings.EqualFold(header("Smithy-Protocol"), "rpc-v2-cbor") {
		return CBOR
	}
	if strings.HasPrefix(header("X-Amz-Target"), ServiceName+".") {
		return JSON
	}
	return Query
}

// Obj is an ordered response structure, so XML and JSON output is stable and
// reads like AWS's.
type Obj []KV

// KV is one member of an Obj.
type KV struct {
	k string
	v any
}

// Set appends a member; nil pointers and nil values are omitted, which is
// how all three protocols express an absent optional member.
func (o Obj) Set(k string, v any) Obj {
	switch x := v.(type) {
	case nil:
		return o
	case *string:
		if x == nil {
			return o
		}
		v = *x
	case *float64:
		if x == nil {
			return o
		}
		v = *x
	case *int64:
		if x == nil {
			return o
		}
		v = *x
	case *bool:
		if x == nil {
			return o
		}
		v = *x
	case *time.Time:
		if x == nil {
			return o
		}
		v = *x
	}
	return append(o, KV{k, v})
}

// EpochToTime reads epoch seconds, refusing times arithmetic could not
// handle.
func EpochToTime(f float64) (time.Time, error) {
	// Bound the range so that time arithmetic later cannot overflow.
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -62135596800 || f > 253402300799 {
		return time.Time{}, fmt.Errorf("timestamp %v out of range", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// Pairs is an Obj of the keys and values given in turn: "k1", v1, "k2", v2.
func Pairs(kv ...any) Obj {
	o := make(Obj, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, KV{k: kv[i].(string), v: kv[i+1]})
	}
	return o
}
