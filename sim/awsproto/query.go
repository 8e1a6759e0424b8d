// Package awsproto holds the wire-protocol pieces the simulated services
// share: routing a request to its service (by SigV4 scope, or by protocol
// markers), the awsQuery form tree and XML writer, and the error shapes
// (awsQuery XML, awsJson and restJson1) every service answers in.
package awsproto

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Node is one node of an awsQuery form decoded into a tree: the key
// "Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight" becomes the
// path Actions → member → 1 → ForwardConfig → TargetGroups → member → 2 →
// Weight. Keeping the tree generic lets the simulator store and echo back
// structures it does not interpret (conditions, authenticate actions) while
// the awsQuery → XML mapping stays mechanical.
type Node struct {
	val  string
	set  bool
	kids map[string]*Node
}

// maxQueryKeys bounds the work a hostile or broken form can cause.
const maxQueryKeys = 4096

// maxListIndex bounds member.N so that a list index can't ask for a huge
// allocation or overflow when sorted.
const maxListIndex = 100000

// ParseQueryTree decodes a form body into a tree. It rejects key shapes
// AWS would reject (empty path segments, bad list indexes) rather than
// guessing.
func ParseQueryTree(form url.Values) (*Node, error) {
	if len(form) > maxQueryKeys {
		return nil, fmt.Errorf("too many parameters (%d, limit %d)", len(form), maxQueryKeys)
	}
	root := &Node{}
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
			} else if !IsParamName(p) {
				// Names are echoed back as XML element names, so only
				// the identifier-like names AWS uses are accepted.
				return nil, fmt.Errorf("parameter %q has an invalid name segment %q", k, p)
			}
			if (p == "member" || p == "entry") && i == len(parts)-1 {
				return nil, fmt.Errorf("parameter %q is a list without an index", k)
			}
			if n.kids == nil {
				n.kids = map[string]*Node{}
			}
			c := n.kids[p]
			if c == nil {
				c = &Node{}
				n.kids[p] = c
			}
			n = c
		}
		n.val, n.set = vs[0], true
	}
	return root, nil
}

func IsParamName(p string) bool {
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

// Child returns the named Child, or nil. It is nil-safe so that lookups
// chain: n.Child("A").Child("B").
func (n *Node) Child(name string) *Node {
	if n == nil || n.kids == nil {
		return nil
	}
	return n.kids[name]
}

// Str is the scalar value at the path, "" when absent.
func (n *Node) Str(path ...string) string {
	for _, p := range path {
		n = n.Child(p)
	}
	if n == nil {
		return ""
	}
	return n.val
}

// Has reports whether the path was sent at all, even as an empty list
// (the SDK sends "Actions=" for an empty slice).
func (n *Node) Has(path ...string) bool {
	for _, p := range path {
		n = n.Child(p)
	}
	return n != nil && (n.set || len(n.kids) > 0)
}

// List returns the members of the List at name (name.member.N) in index
// order.
func (n *Node) List(name string) []*Node {
	return n.Child(name).Indexed("member")
}

func (n *Node) Indexed(kind string) []*Node {
	m := n.Child(kind)
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
	out := make([]*Node, 0, len(idx))
	for _, i := range idx {
		out = append(out, m.kids[strconv.Itoa(i)])
	}
	return out
}

// Strings returns a list of scalars (name.member.N).
func (n *Node) Strings(name string) []string {
	var out []string
	for _, m := range n.List(name) {
		out = append(out, m.val)
	}
	return out
}

// Clone deep-copies a subtree so stored state never aliases a request.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := &Node{val: n.val, set: n.set}
	if n.kids != nil {
		c.kids = make(map[string]*Node, len(n.kids))
		for k, v := range n.kids {
			c.kids[k] = v.Clone()
		}
	}
	return c
}

// Without returns a shallow copy of n minus the named children.
func (n *Node) Without(names ...string) *Node {
	if n == nil {
		return nil
	}
	c := &Node{val: n.val, set: n.set, kids: map[string]*Node{}}
	for k, v := range n.kids {
		c.kids[k] = v
	}
	for _, name := range names {
		delete(c.kids, name)
	}
	return c
}

// QueryAction names an awsQuery request's operation: the form body's
// Action, or the URL's for a GET.
func QueryAction(r *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err == nil && form.Get("Action") != "" {
		return form.Get("Action")
	}
	return r.URL.Query().Get("Action")
}

// ParseQueryRequest decodes an awsQuery request: the form body, or the URL
// query for the GET form some old clients use.
func ParseQueryRequest(r *http.Request, body []byte) (*Node, *Error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ValidationErr("malformed form body: %v", err)
	}
	if form.Get("Action") == "" {
		for k, v := range r.URL.Query() {
			form[k] = v
		}
	}
	t, err := ParseQueryTree(form)
	if err != nil {
		return nil, ValidationErr("%v", err)
	}
	return t, nil
}

// WriteQuery answers an awsQuery request with its result, or with aerr in
// the awsQuery error shape.
func WriteQuery(w http.ResponseWriter, ns, op, result string, aerr *Error) {
	reqID := w.Header().Get("X-Amzn-Requestid")
	w.Header().Set("Content-Type", "text/xml")
	if aerr != nil {
		w.WriteHeader(aerr.Status)
		_, _ = io.WriteString(w, QueryErrorXML(ns, aerr, reqID))
		return
	}
	_, _ = io.WriteString(w, QueryResponseXML(ns, op, result, reqID))
}

// SortedKeys is used wherever map iteration order would leak into output.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Leaf is a node holding the scalar v, as if sent.
func Leaf(v string) *Node { return &Node{val: v, set: true} }

// Branch is a node with the named children.
func Branch(kids map[string]*Node) *Node { return &Node{kids: kids} }
