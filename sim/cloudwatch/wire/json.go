package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// DecodeJSON handles awsJson1.0 bodies; numbers stay float64 and
// timestamps arrive as epoch-second numbers, which the accessors convert.
func DecodeJSON(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode json body: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode json body: trailing data")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode json body: top level is %T, not an object", v)
	}
	out, err := cwFromJSON(m)
	if err != nil {
		return nil, fmt.Errorf("decode json body: %w", err)
	}
	return out.(map[string]any), nil
}

func cwFromJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			d, err := cwFromJSON(e)
			if err != nil {
				return nil, fmt.Errorf("member %s: %w", k, err)
			}
			x[k] = d
		}
		return x, nil
	case []any:
		for i, e := range x {
			d, err := cwFromJSON(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			x[i] = d
		}
		return x, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", x, err)
		}
		return f, nil
	default:
		return x, nil
	}
}

// EncodeJSON renders a response tree as awsJson1.0.
func EncodeJSON(v any) []byte {
	var b bytes.Buffer
	cwWriteJSON(&b, v)
	return b.Bytes()
}

func cwWriteJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case Obj:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			cwWriteJSONString(b, e.k)
			b.WriteByte(':')
			cwWriteJSON(b, e.v)
		}
		b.WriteByte('}')
	case []Obj:
		cwWriteJSONList(b, len(x), func(i int) { cwWriteJSON(b, x[i]) })
	case []string:
		cwWriteJSONList(b, len(x), func(i int) { cwWriteJSONString(b, x[i]) })
	case []float64:
		cwWriteJSONList(b, len(x), func(i int) { cwWriteJSON(b, x[i]) })
	case []time.Time:
		cwWriteJSONList(b, len(x), func(i int) { cwWriteJSON(b, x[i]) })
	case string:
		cwWriteJSONString(b, x)
	case float64:
		b.WriteString(cwJSONFloat(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case time.Time:
		b.WriteString(strconv.FormatFloat(float64(x.UnixMilli())/1e3, 'f', -1, 64))
	default:
		panic(fmt.Sprintf("cw: cannot encode %T", v))
	}
}

func cwWriteJSONList(b *bytes.Buffer, n int, item func(int)) {
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		item(i)
	}
	b.WriteByte(']')
}

func cwWriteJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// cwJSONFloat writes what JSON can carry; operation code never produces NaN
// or infinities, but a wire encoder must not emit invalid JSON regardless.
func cwJSONFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
