package wire

import (
	"fmt"
	"math"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// DecodeCBOR turns a CBOR body into the generic tree. An empty body is
// an empty input: the SDK sends none for operations without members.
func DecodeCBOR(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("decode cbor body: %w", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, fmt.Errorf("decode cbor body: top level is %T, not a map", v)
	}
	out, err := cwFromCBOR(m)
	if err != nil {
		return nil, fmt.Errorf("decode cbor body: %w", err)
	}
	return out.(map[string]any), nil
}

func cwFromCBOR(v cbor.Value) (any, error) {
	switch x := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if _, isNil := e.(*cbor.Nil); isNil {
				continue // null members are absent members
			}
			if _, isUndef := e.(*cbor.Undefined); isUndef {
				continue
			}
			d, err := cwFromCBOR(e)
			if err != nil {
				return nil, fmt.Errorf("member %s: %w", k, err)
			}
			m[k] = d
		}
		return m, nil
	case cbor.List:
		l := make([]any, 0, len(x))
		for i, e := range x {
			d, err := cwFromCBOR(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			l = append(l, d)
		}
		return l, nil
	case cbor.String:
		return string(x), nil
	case cbor.Uint:
		return float64(x), nil
	case cbor.NegInt:
		// NegInt(n) is -n; NegInt(0) is the wraparound -2^64.
		if x == 0 {
			return -math.Pow(2, 64), nil
		}
		return -float64(x), nil
	case cbor.Float32:
		return float64(x), nil
	case cbor.Float64:
		return float64(x), nil
	case cbor.Bool:
		return bool(x), nil
	case *cbor.Tag:
		if x.ID != 1 {
			return nil, fmt.Errorf("unsupported cbor tag %d", x.ID)
		}
		secs, err := cwFromCBOR(x.Value)
		if err != nil {
			return nil, err
		}
		f, ok := secs.(float64)
		if !ok {
			return nil, fmt.Errorf("timestamp tag holds %T", secs)
		}
		return EpochToTime(f)
	case *cbor.Nil, *cbor.Undefined:
		return nil, nil
	case cbor.Slice:
		return nil, fmt.Errorf("unexpected byte string")
	default:
		return nil, fmt.Errorf("unexpected cbor value %T", v)
	}
}

// EncodeCBOR renders a response tree as RPCv2 CBOR.
func EncodeCBOR(v any) []byte { return cbor.Encode(cwToCBOR(v)) }

func cwToCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case Obj:
		m := make(cbor.Map, len(x))
		for _, e := range x {
			m[e.k] = cwToCBOR(e.v)
		}
		return m
	case []Obj:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = cwToCBOR(e)
		}
		return l
	case []string:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = cbor.String(e)
		}
		return l
	case []float64:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = cbor.Float64(e)
		}
		return l
	case []time.Time:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = cwCBORTime(e)
		}
		return l
	case string:
		return cbor.String(x)
	case float64:
		return cbor.Float64(x)
	case int:
		return cwCBORInt(int64(x))
	case int64:
		return cwCBORInt(x)
	case bool:
		return cbor.Bool(x)
	case time.Time:
		return cwCBORTime(x)
	default:
		panic(fmt.Sprintf("cw: cannot encode %T", v))
	}
}

func cwCBORInt(i int64) cbor.Value {
	if i >= 0 {
		return cbor.Uint(uint64(i))
	}
	return cbor.NegInt(uint64(-i))
}

func cwCBORTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1e3)}
}
