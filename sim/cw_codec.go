package sim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The three CloudWatch wire protocols share one model: each request body is
// decoded into a generic tree (map[string]any, []any, string, float64, bool,
// time.Time) and each response is built as an ordered tree (cwObj) that three
// encoders render. Operation code never sees the wire format.

// cwProtocol identifies the wire protocol a request arrived in; the response
// must use the same one.
type cwProtocol int

const (
	cwProtoQuery cwProtocol = iota
	cwProtoJSON
	cwProtoCBOR
)

const (
	cwServiceName = "GraniteServiceVersion20100801"
	cwCBORPrefix  = "/service/" + cwServiceName + "/operation/"
	cwXMLNS       = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	cwAPIVersion  = "2010-08-01"
)

// cwDetectProtocol decides by path and headers first, because a CBOR or JSON
// body can never be mistaken for a form, and falls back to awsQuery.
func cwDetectProtocol(path string, header func(string) string) cwProtocol {
	if strings.HasPrefix(path, cwCBORPrefix) || strings.EqualFold(header("Smithy-Protocol"), "rpc-v2-cbor") {
		return cwProtoCBOR
	}
	if strings.HasPrefix(header("X-Amz-Target"), cwServiceName+".") {
		return cwProtoJSON
	}
	return cwProtoQuery
}

// cwObj is an ordered response structure, so XML and JSON output is stable and
// reads like AWS's.
type cwObj []cwKV

type cwKV struct {
	k string
	v any
}

// set appends a member; nil pointers and nil values are omitted, which is
// how all three protocols express an absent optional member.
func (o cwObj) set(k string, v any) cwObj {
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
	return append(o, cwKV{k, v})
}

// ---- request decoding ----

// cwDecodeCBOR turns a CBOR body into the generic tree. An empty body is
// an empty input: the SDK sends none for operations without members.
func cwDecodeCBOR(body []byte) (map[string]any, error) {
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
		return cwEpochToTime(f)
	case *cbor.Nil, *cbor.Undefined:
		return nil, nil
	case cbor.Slice:
		return nil, fmt.Errorf("unexpected byte string")
	default:
		return nil, fmt.Errorf("unexpected cbor value %T", v)
	}
}

func cwEpochToTime(f float64) (time.Time, error) {
	// Bound the range so that time arithmetic later cannot overflow.
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -62135596800 || f > 253402300799 {
		return time.Time{}, fmt.Errorf("timestamp %v out of range", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// cwDecodeJSON handles awsJson1.0 bodies; numbers stay float64 and
// timestamps arrive as epoch-second numbers, which the accessors convert.
func cwDecodeJSON(body []byte) (map[string]any, error) {
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

// cwMaxListIndex bounds member indexes so a hostile form cannot make the
// decoder sort millions of keys into one list.
const cwMaxListIndex = 100000

// cwDecodeQuery turns awsQuery's flattened form (`A.member.1.B=v`) into
// the same tree the other protocols produce. Everything is a string here;
// the accessors coerce.
func cwDecodeQuery(form url.Values) (map[string]any, string, error) {
	action := form.Get("Action")
	root := map[string]any{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Action" || k == "Version" {
			continue
		}
		if err := cwSetQueryPath(root, strings.Split(k, "."), form.Get(k)); err != nil {
			return nil, action, fmt.Errorf("form key %q: %w", k, err)
		}
	}
	// The root is always a structure, even if a key is literally "member".
	for k, v := range root {
		d, err := cwQueryLists(v)
		if err != nil {
			return nil, action, fmt.Errorf("%s: %w", k, err)
		}
		root[k] = d
	}
	return root, action, nil
}

func cwSetQueryPath(m map[string]any, path []string, val string) error {
	for i, p := range path {
		if p == "" {
			return fmt.Errorf("empty path segment")
		}
		if i == len(path)-1 {
			if _, exists := m[p]; exists {
				return fmt.Errorf("%s given twice or as both a value and a structure", p)
			}
			m[p] = val
			return nil
		}
		next, exists := m[p]
		if !exists {
			nm := map[string]any{}
			m[p] = nm
			m = nm
			continue
		}
		nm, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is both a value and a structure", p)
		}
		m = nm
	}
	return nil
}

// cwQueryLists converts every {"member": {"1": a, "2": b}} into []any{a, b}.
func cwQueryLists(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	if members, ok := m["member"]; ok && len(m) == 1 {
		mm, ok := members.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("list without an index")
		}
		type item struct {
			i int
			v any
		}
		items := make([]item, 0, len(mm))
		for k, e := range mm {
			i, err := strconv.Atoi(k)
			if err != nil || i < 1 || i > cwMaxListIndex {
				return nil, fmt.Errorf("bad list index %q", k)
			}
			d, err := cwQueryLists(e)
			if err != nil {
				return nil, err
			}
			items = append(items, item{i, d})
		}
		sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
		l := make([]any, len(items))
		for i, it := range items {
			l[i] = it.v
		}
		return l, nil
	}
	for k, e := range m {
		d, err := cwQueryLists(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = d
	}
	return m, nil
}

// ---- typed access to the generic tree ----

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
		t, err := cwEpochToTime(x)
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
			if t, err := cwEpochToTime(n); err == nil {
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

// ---- response encoding ----

func cwEncodeCBOR(v any) []byte { return cbor.Encode(cwToCBOR(v)) }

func cwToCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case cwObj:
		m := make(cbor.Map, len(x))
		for _, e := range x {
			m[e.k] = cwToCBOR(e.v)
		}
		return m
	case []cwObj:
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

func cwEncodeJSON(v any) []byte {
	var b bytes.Buffer
	cwWriteJSON(&b, v)
	return b.Bytes()
}

func cwWriteJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case cwObj:
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
	case []cwObj:
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

// cwEncodeXML renders <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
func cwEncodeXML(op string, result cwObj, requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(`<` + op + `Response xmlns="` + cwXMLNS + `">`)
	if result != nil {
		b.WriteString("<" + op + "Result>")
		cwWriteXMLMembers(&b, result)
		b.WriteString("</" + op + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	cwXMLEscape(&b, requestID)
	b.WriteString("</RequestId></ResponseMetadata></" + op + "Response>")
	return b.Bytes()
}

func cwWriteXMLMembers(b *bytes.Buffer, o cwObj) {
	for _, e := range o {
		b.WriteString("<" + e.k + ">")
		cwWriteXMLValue(b, e.v)
		b.WriteString("</" + e.k + ">")
	}
}

func cwWriteXMLValue(b *bytes.Buffer, v any) {
	member := func(n int, item func(int)) {
		for i := 0; i < n; i++ {
			b.WriteString("<member>")
			item(i)
			b.WriteString("</member>")
		}
	}
	switch x := v.(type) {
	case cwObj:
		cwWriteXMLMembers(b, x)
	case []cwObj:
		member(len(x), func(i int) { cwWriteXMLMembers(b, x[i]) })
	case []string:
		member(len(x), func(i int) { cwXMLEscape(b, x[i]) })
	case []float64:
		member(len(x), func(i int) { cwWriteXMLValue(b, x[i]) })
	case []time.Time:
		member(len(x), func(i int) { cwWriteXMLValue(b, x[i]) })
	case string:
		cwXMLEscape(b, x)
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case time.Time:
		b.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	default:
		panic(fmt.Sprintf("cw: cannot encode %T", v))
	}
}

func cwXMLEscape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}
