package ui

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// foundItem is one found canary in the list.
type foundItem struct {
	f      model.Found
	filter string
}

func newFoundItem(f model.Found) foundItem {
	return foundItem{f: f, filter: strings.Join([]string{string(f.Kind), f.Name, f.Region, f.Status, f.Note}, " ")}
}

func (i foundItem) FilterValue() string { return i.filter }

// foundDelegate draws a found canary in two lines, in perch's styles:
// kind and name, then region, split, canary, how long ago it changed,
// the marker and any note.
type foundDelegate struct {
	st  *Styles
	now func() time.Time
}

func (d foundDelegate) Height() int                         { return 2 }
func (d foundDelegate) Spacing() int                        { return 0 }
func (d foundDelegate) Update(tea.Msg, *list.Model) tea.Cmd { return nil }

func (d foundDelegate) Render(w io.Writer, m list.Model, index int, item list.Item) {
	it, ok := item.(foundItem)
	if !ok {
		return
	}
	f, st := it.f, d.st
	mark := "  "
	name := termtext.Clean(f.Name, 0)
	if index == m.Index() {
		mark = st.Focused.Render("▸") + " "
		name = st.Bold.Render(name)
	}
	line1 := mark + st.Dim.Render(fmt.Sprintf("%-10s ", f.Kind)) + name
	canary := "canary ?"
	if f.CanaryPercent != nil {
		canary = "canary " + pct(*f.CanaryPercent)
	}
	changed := "changed: unknown"
	if !f.Changed.IsZero() {
		changed = "changed " + age(d.now().Sub(f.Changed)) + " ago"
	}
	parts := []string{termtext.Clean(f.Region, 0), f.SplitText(), canary, changed}
	if f.Marked {
		parts = append(parts, st.OK.Render("perch marker"))
	}
	if f.Status != "" {
		parts = append(parts, termtext.Clean(f.Status, 0))
	}
	if f.Note != "" {
		parts = append(parts, st.Warn.Render(termtext.Clean(f.Note, 0)))
	}
	line2 := "  " + strings.Repeat(" ", 11) + strings.Join(parts, st.Sep)
	fmt.Fprint(w, trunc(line1, m.Width())+"\n"+trunc(line2, m.Width()))
}

func newFoundList(st *Styles, now func() time.Time) list.Model {
	l := list.New(nil, foundDelegate{st: st, now: now}, 0, 0)
	l.SetShowTitle(false)
	l.SetShowHelp(false)
	l.SetShowStatusBar(true)
	l.SetStatusBarItemName("canary", "canaries")
	l.DisableQuitKeybindings()
	l.Styles.StatusBar = st.Dim
	l.Styles.NoItems = st.Dim
	// A blinking cursor would tick forever (and move golden screens).
	l.FilterInput.Cursor.SetMode(cursor.CursorStatic)
	l.FilterInput.PromptStyle = st.Bold
	l.FilterInput.TextStyle = st.Input
	return l
}

func foundItems(found []model.Found) []list.Item {
	items := make([]list.Item, len(found))
	for i, f := range found {
		items[i] = newFoundItem(f)
	}
	return items
}
