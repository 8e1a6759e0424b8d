package ui

import (
	"reflect"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// Nearly every string in a snapshot was written by someone other than
// perch: alarm names and reasons (anyone with cloudwatch:SetAlarmState),
// resource names, CodeDeploy messages, audit reasons and actors, AWS error
// text, and in a replay the whole file. The cockpit draws none of them as
// it is: displaySnapshot passes each through termtext.Clean once, when the
// snapshot arrives, so every component, the confirm dialog and the status
// line only ever see clean text. It walks the value rather than listing
// fields so that a field added later is covered without anyone
// remembering to.

var (
	splitType   = reflect.TypeFor[model.Split]()
	signalsType = reflect.TypeFor[model.Signals]()
)

// displaySnapshot returns a copy of s whose strings are safe to draw. The
// splits are left exactly as read: their IDs and revision are what an
// intent's compare-and-set checks against, so the few places that show an
// ID clean it themselves. s itself, which other viewers share, is not
// changed.
func displaySnapshot(s model.Snapshot) model.Snapshot {
	v := reflect.ValueOf(&s).Elem()
	cleanValue(v)
	return s
}

// displayResult is displaySnapshot for an action's result.
func displayResult(r model.Result) model.Result {
	cleanValue(reflect.ValueOf(&r).Elem())
	return r
}

// displayActor is displaySnapshot for who this cockpit acts as (an SSH
// seat's user name is the client's choice).
func displayActor(a model.Actor) model.Actor {
	cleanValue(reflect.ValueOf(&a).Elem())
	return a
}

// displayPair is displaySnapshot for a shared session's seat names.
func displayPair(p PairState) PairState {
	cleanValue(reflect.ValueOf(&p).Elem())
	return p
}

// cleanValue cleans every string reachable from v (settable) in place,
// copying slices and pointed-to values before changing them so that
// nothing shared with the original is written.
func cleanValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); s != "" {
			if c := termtext.Clean(s, 0); c != s {
				v.SetString(c)
			}
		}
	case reflect.Struct:
		if v.Type() == splitType {
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				cleanValue(f)
			}
		}
	case reflect.Array:
		if v.Type() == signalsType {
			// Metric series, keyed by signal: what is drawn of them is
			// perch's own chart titles and numbers.
			return
		}
		for i := range v.Len() {
			cleanValue(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() || v.Len() == 0 || !hasStrings(v.Type().Elem()) {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			cleanValue(c.Index(i))
		}
		v.Set(c)
	case reflect.Pointer:
		if v.IsNil() || !hasStrings(v.Type().Elem()) {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		cleanValue(c.Elem())
		v.Set(c)
	case reflect.Map:
		if v.IsNil() || v.Len() == 0 || !hasStrings(v.Type().Key()) && !hasStrings(v.Type().Elem()) {
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			cleanValue(k)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			cleanValue(e)
			c.SetMapIndex(k, e)
		}
		v.Set(c)
	}
}

// hasStrings reports whether a value of type t can hold a string that
// cleanValue would clean, so slices of numbers are not copied for nothing.
// Model types are not recursive; depth only guards against one that is.
func hasStrings(t reflect.Type) bool { return hasStringsDepth(t, 0) }

func hasStringsDepth(t reflect.Type, depth int) bool {
	if depth > 16 {
		return true
	}
	switch t.Kind() {
	case reflect.String:
		return true
	case reflect.Struct:
		if t == splitType {
			return false
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && hasStringsDepth(f.Type, depth+1) {
				return true
			}
		}
	case reflect.Array, reflect.Slice, reflect.Pointer:
		return hasStringsDepth(t.Elem(), depth+1)
	case reflect.Map:
		return hasStringsDepth(t.Key(), depth+1) || hasStringsDepth(t.Elem(), depth+1)
	}
	return false
}
