package awsproto

import (
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestQueryTree(t *testing.T) {
	form, _ := url.ParseQuery("Action=ModifyRule&RuleArn=r" +
		"&Actions.member.2.Type=forward&Actions.member.2.Order=2" +
		"&Actions.member.10.Type=fixed-response" +
		"&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=0" +
		"&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=a%3Ab" +
		"&Names=")
	tr, err := ParseQueryTree(form)
	if err != nil {
		t.Fatal(err)
	}
	acts := tr.List("Actions")
	if len(acts) != 3 || acts[1].Str("Type") != "forward" || acts[2].Str("Type") != "fixed-response" {
		t.Fatalf("members out of numeric order: %+v", acts)
	}
	tgs := acts[0].Child("ForwardConfig").List("TargetGroups")
	if len(tgs) != 1 || tgs[0].Str("TargetGroupArn") != "a:b" || tgs[0].Str("Weight") != "0" || !tgs[0].Has("Weight") {
		t.Fatalf("nested: %+v", tgs)
	}
	if !tr.Has("Names") || len(tr.List("Names")) != 0 || tr.Has("Nope") {
		t.Fatalf("empty list marker")
	}
	var x XMLWriter
	x.Tree(acts[0])
	if got := x.String(); got != "<ForwardConfig><TargetGroups><member><TargetGroupArn>a:b</TargetGroupArn><Weight>0</Weight></member></TargetGroups></ForwardConfig>" {
		t.Errorf("xml echo = %s", got)
	}
	for _, bad := range []string{"A..B=1", "A.member.0.B=1", "A.member.x=1", "A.member.01=1", "A.member.999999999999=1", ".A=1", "A.member=1", "0A=1", "A<b>=1"} {
		f, _ := url.ParseQuery(bad)
		if _, err := ParseQueryTree(f); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func FuzzQueryTree(f *testing.F) {
	f.Add("Action=ModifyRule&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=5&Actions.member.1.Type=forward")
	f.Add("A.member.1=x&A.member.1.B=y&A=z")
	f.Add("M.entry.1.key=k&M.entry.1.value=v")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		tr, err := ParseQueryTree(form)
		if err != nil {
			return
		}
		// Every accessor and the XML echo must be total on any tree.
		var x XMLWriter
		x.Tree(tr)
		dec := xml.NewDecoder(strings.NewReader("<r>" + x.String() + "</r>"))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("echo is not well-formed XML (%v): %s", err, x.String())
			}
		}
		for k := range tr.kids {
			_ = tr.List(k)
			_ = tr.Strings(k)
			_ = tr.Str(k, "member", "1")
			_ = tr.Child(k).Clone()
		}
	})
}
