package wire

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cwMaxListIndex bounds member indexes so a hostile form cannot make the
// decoder sort millions of keys into one list.
const cwMaxListIndex = 100000

// DecodeQuery turns awsQuery's flattened form (`A.member.1.B=v`) into
// the same tree the other protocols produce. Everything is a string here;
// the accessors coerce.
func DecodeQuery(form url.Values) (map[string]any, string, error) {
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

// EncodeXML renders <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
func EncodeXML(op string, result Obj, requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(`<` + op + `Response xmlns="` + XMLNS + `">`)
	if result != nil {
		b.WriteString("<" + op + "Result>")
		cwWriteXMLMembers(&b, result)
		b.WriteString("</" + op + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	XMLEscape(&b, requestID)
	b.WriteString("</RequestId></ResponseMetadata></" + op + "Response>")
	return b.Bytes()
}

func cwWriteXMLMembers(b *bytes.Buffer, o Obj) {
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
	case Obj:
		cwWriteXMLMembers(b, x)
	case []Obj:
		member(len(x), func(i int) { cwWriteXMLMembers(b, x[i]) })
	case []string:
		member(len(x), func(i int) { XMLEscape(b, x[i]) })
	case []float64:
		member(len(x), func(i int) { cwWriteXMLValue(b, x[i]) })
	case []time.Time:
		member(len(x), func(i int) { cwWriteXMLValue(b, x[i]) })
	case string:
		XMLEscape(b, x)
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

// XMLEscape writes s escaped for XML text.
func XMLEscape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}
