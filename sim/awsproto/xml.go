package awsproto

import (
	"encoding/xml"
	"sort"
	"strings"
)

// XMLWriter builds an XML document by hand: the response shapes are simple and
// the generic qnode echo needs element names chosen at run time, which
// encoding/xml struct tags cannot express.
type XMLWriter struct {
	b strings.Builder
}

func (x *XMLWriter) Open(name string) { x.b.WriteString("<" + name + ">") }

func (x *XMLWriter) Close(name string) { x.b.WriteString("</" + name + ">") }

func (x *XMLWriter) Text(s string) {
	_ = xml.EscapeText(&x.b, []byte(s))
}

func (x *XMLWriter) Elem(name, value string) {
	x.Open(name)
	x.Text(value)
	x.Close(name)
}

// Tree writes a qnode's children as XML: name.member.N maps to
// <name><member>…</member></name>, which is exactly how awsQuery responses
// encode the same shapes.
func (x *XMLWriter) Tree(n *Node) {
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
			for _, m := range n.Indexed(k) {
				x.Open(k)
				x.node(m)
				x.Close(k)
			}
			continue
		}
		x.Open(k)
		x.node(c)
		x.Close(k)
	}
}

func (x *XMLWriter) node(n *Node) {
	if len(n.kids) == 0 {
		x.Text(n.val)
		return
	}
	x.Tree(n)
}

func (x *XMLWriter) String() string { return x.b.String() }

// QueryResponseXML wraps a result body in <OpResponse><OpResult>…
func QueryResponseXML(ns, op, result, requestID string) string {
	var x XMLWriter
	x.b.WriteString(xml.Header)
	x.b.WriteString("<" + op + `Response xmlns="` + ns + `">`)
	x.Open(op + "Result")
	x.b.WriteString(result)
	x.Close(op + "Result")
	x.Open("ResponseMetadata")
	x.Elem("RequestId", requestID)
	x.Close("ResponseMetadata")
	x.Close(op + "Response")
	return x.String()
}

// QueryErrorXML renders an awsQuery error body, the shape both ELBv2 and
// STS use.
func QueryErrorXML(ns string, e *Error, requestID string) string {
	var x XMLWriter
	x.b.WriteString(xml.Header)
	if ns != "" {
		x.b.WriteString(`<ErrorResponse xmlns="` + ns + `">`)
	} else {
		x.Open("ErrorResponse")
	}
	x.Open("Error")
	typ := "Sender"
	if !e.Sender {
		typ = "Receiver"
	}
	x.Elem("Type", typ)
	x.Elem("Code", e.Code)
	x.Elem("Message", e.Message)
	x.Close("Error")
	x.Elem("RequestId", requestID)
	x.Close("ErrorResponse")
	return x.String()
}
