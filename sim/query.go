package sim

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// qnode is one node of an awsQuery form decoded into a tree: the key
// "Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight" becomes the
// path Actions → member → 1 → ForwardConfig → TargetGroups → member → 2 →
// Weight. Keeping the tree generic lets the simulator store and echo back
// structures it does not interpret (conditions, authenticate actions) while
// the awsQuery → XML mapping stays mechanical.
type qnode struct {
	val  string
	set  bool
	kids map[string]*qnode
}

// maxQueryKeys bounds the work a hostile or broken form can cause.
const maxQueryKeys = 4096

// maxListIndex bounds member.N so that a list index can't ask for a huge
// allocation or overflow when sorted.
const maxListIndex = 100000

// parseQueryTree decodes a form body into a tree. It rejects key shapes
// AWS would reject (empty path segments, bad list indexes) rather than
// guessing.
func parseQueryTree(form url.Values) (*qnode, error) {
	if len(form) > maxQueryKeys {
		return nil, fmt.Errorf("too many parameters (%d, limit %d)", len(form), maxQueryKeys)
	}
	root := &qnode{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := form[k]
		if len(vs) == 0 {
			continue
		}
		parts := strings.Split(k, ".")
		n := root
		for i, p := range parts {
			if i > 0 && (parts[i-1] == "member" || parts[i-1] == "entry") {
				idx, err := strconv.Atoi(p)
				if err != nil || idx < 1 || idx > maxListIndex || strconv.Itoa(idx) != p {
					return nil, fmt.Errorf("parameter %q has an invalid list index %q", k, p)
				}
			} else if !isParamName(p) {
				// Names are echoed back as XML element names, so only
				// the identifier-like names AWS uses are accepted.
				return nil, fmt.Errorf("parameter %q has an invalid name segment %q", k, p)
			}
			if (p == "member" || p == "entry") && i == len(parts)-1 {
				return nil, fmt.Errorf("parameter %q is a list without an index", k)
			}
			if n.kids == nil {
				n.kids = map[string]*qnode{}
			}
			c := n.kids[p]
			if c == nil {
				c = &qnode{}
				n.kids[p] = c
			}
			n = c
		}
		n.val, n.set = vs[0], true
	}
	return root, nil
}

func isParamName(p string) bool {
	if p == "" || len(p) > 128 {
		return false
	}
	for i, c := range p {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// child returns the named child, or nil. It is nil-safe so that lookups
// chain: n.child("A").child("B").
func (n *qnode) child(name string) *qnode {
	if n == nil || n.kids == nil {
		return nil
	}
	return n.kids[name]
}

// str is the scalar value at the path, "" when absent.
func (n *qnode) str(path ...string) string {
	for _, p := range path {
		n = n.child(p)
	}
	if n == nil {
		return ""
	}
	return n.val
}

// has reports whether the path was sent at all, even as an empty list
// (the SDK sends "Actions=" for an empty slice).
func (n *qnode) has(path ...string) bool {
	for _, p := range path {
		n = n.child(p)
	}
	return n != nil && (n.set || len(n.kids) > 0)
}

// list returns the members of the list at name (name.member.N) in index
// order.
func (n *qnode) list(name string) []*qnode {
	return n.child(name).indexed("member")
}

func (n *qnode) indexed(kind string) []*qnode {
	m := n.child(kind)
	if m == nil {
		return nil
	}
	idx := make([]int, 0, len(m.kids))
	for k := range m.kids {
		i, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]*qnode, 0, len(idx))
	for _, i := range idx {
		out = append(out, m.kids[strconv.Itoa(i)])
	}
	return out
}

// strings returns a list of scalars (name.member.N).
func (n *qnode) strings(name string) []string {
	var out []string
	for _, m := range n.list(name) {
		out = append(out, m.val)
	}
	return out
}

// clone deep-copies a subtree so stored state never aliases a request.
func (n *qnode) clone() *qnode {
	if n == nil {
		return nil
	}
	c := &qnode{val: n.val, set: n.set}
	if n.kids != nil {
		c.kids = make(map[string]*qnode, len(n.kids))
		for k, v := range n.kids {
			c.kids[k] = v.clone()
		}
	}
	return c
}

// without returns a shallow copy of n minus the named children.
func (n *qnode) without(names ...string) *qnode {
	if n == nil {
		return nil
	}
	c := &qnode{val: n.val, set: n.set, kids: map[string]*qnode{}}
	for k, v := range n.kids {
		c.kids[k] = v
	}
	for _, name := range names {
		delete(c.kids, name)
	}
	return c
}

// xmlw builds an XML document by hand: the response shapes are simple and
// the generic qnode echo needs element names chosen at run time, which
// encoding/xml struct tags cannot express.
type xmlw struct {
	b strings.Builder
}

func (x *xmlw) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *xmlw) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *xmlw) text(s string) {
	_ = xml.EscapeText(&x.b, []byte(s))
}

func (x *xmlw) elem(name, value string) {
	x.open(name)
	x.text(value)
	x.close(name)
}

// tree writes a qnode's children as XML: name.member.N maps to
// <name><member>…</member></name>, which is exactly how awsQuery responses
// encode the same shapes.
func (x *xmlw) tree(n *qnode) {
	if n == nil {
		return
	}
	names := make([]string, 0, len(n.kids))
	for k := range n.kids {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := n.kids[k]
		if k == "member" || k == "entry" {
			for _, m := range n.indexed(k) {
				x.open(k)
				x.node(m)
				x.close(k)
			}
			continue
		}
		x.open(k)
		x.node(c)
		x.close(k)
	}
}

func (x *xmlw) node(n *qnode) {
	if len(n.kids) == 0 {
		x.text(n.val)
		return
	}
	x.tree(n)
}

func (x *xmlw) String() string { return x.b.String() }

// apiError is an error the simulator returns to the client in the
// service's own error shape.
type apiError struct {
	Status  int
	Code    string
	Message string
	Sender  bool // Type Sender (client fault) vs Receiver
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func senderErr(code, format string, args ...any) *apiError {
	return &apiError{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

func validationErr(format string, args ...any) *apiError {
	return senderErr("ValidationError", format, args...)
}

// queryErrorXML renders an awsQuery error body, the shape both ELBv2 and
// STS use.
func queryErrorXML(ns string, e *apiError, requestID string) string {
	var x xmlw
	x.b.WriteString(xml.Header)
	if ns != "" {
		x.b.WriteString(`<ErrorResponse xmlns="` + ns + `">`)
	} else {
		x.open("ErrorResponse")
	}
	x.open("Error")
	typ := "Sender"
	if !e.Sender {
		typ = "Receiver"
	}
	x.elem("Type", typ)
	x.elem("Code", e.Code)
	x.elem("Message", e.Message)
	x.close("Error")
	x.elem("RequestId", requestID)
	x.close("ErrorResponse")
	return x.String()
}

// queryResponseXML wraps a result body in <OpResponse><OpResult>…
func queryResponseXML(ns, op, result, requestID string) string {
	var x xmlw
	x.b.WriteString(xml.Header)
	x.b.WriteString("<" + op + `Response xmlns="` + ns + `">`)
	x.open(op + "Result")
	x.b.WriteString(result)
	x.close(op + "Result")
	x.open("ResponseMetadata")
	x.elem("RequestId", requestID)
	x.close("ResponseMetadata")
	x.close(op + "Response")
	return x.String()
}
