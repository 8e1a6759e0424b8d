package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	pclock "github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// fakeDiscovery is the list's port with canned answers.
type fakeDiscovery struct {
	mu       sync.Mutex
	scope    DiscoverScope
	cached   *DiscoverResult
	scan     DiscoverResult
	scanErr  error
	scans    int
	opened   []string
	closed   int
	regions  []string
	profiles []string
}

func (f *fakeDiscovery) Scope() DiscoverScope { f.mu.Lock(); defer f.mu.Unlock(); return f.scope }
func (f *fakeDiscovery) Cached() (DiscoverResult, bool) {
	if f.cached == nil {
		return DiscoverResult{}, false
	}
	return *f.cached, true
}
func (f *fakeDiscovery) Scan(_ context.Context, progress func(model.ScanProgress)) (DiscoverResult, error) {
	f.mu.Lock()
	f.scans++
	f.mu.Unlock()
	progress(model.ScanProgress{Region: "us-east-1", Stage: "listeners", Done: 3, Total: 6})
	return f.scan, f.scanErr
}
func (f *fakeDiscovery) Open(_ context.Context, found model.Found) (Opened, error) {
	return f.openNamed(found.Name)
}
func (f *fakeDiscovery) OpenTarget(_ context.Context, name string) (Opened, error) {
	if name == "nope" {
		return Opened{}, errors.New(`no target "nope" in perch.yaml`)
	}
	return f.openNamed(name)
}
func (f *fakeDiscovery) openNamed(name string) (Opened, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, name)
	s := healthySnapshot()
	s.Target.Name = name
	return Opened{Engine: newFake(s), Options: Options{Actor: fixActor, Title: name}, Close: func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.closed++
	}}, nil
}
func (f *fakeDiscovery) SetRegion(r string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regions = append(f.regions, r)
	f.scope.Regions = []string{r}
	return nil
}
func (f *fakeDiscovery) SetProfile(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.profiles = append(f.profiles, p)
	f.scope.Profile = p
	return nil
}
func (f *fakeDiscovery) Known() DiscoverKnown {
	return DiscoverKnown{Regions: []string{"eu-west-1", "us-east-1"}, Profiles: []string{"prod-admin"}, Targets: []string{"checkout"}}
}

func foundFixture() []model.Found {
	return []model.Found{
		{Kind: model.KindALB, Name: "checkout rule 10", Region: "us-east-1", RuleARN: "arn:rule/1",
			Sides:         []model.FoundSide{{Name: "checkout-stable", Weight: 90}, {Name: "checkout-canary", Weight: 10}},
			CanaryPercent: model.Pct(10), Marked: true, Changed: fixNow.Add(-12 * time.Minute)},
		{Kind: model.KindALB, Name: "ledger rule 30", Region: "us-east-1",
			Sides: []model.FoundSide{{Weight: 80}, {Weight: 10}, {Weight: 10}}, Note: "3 target groups: perch drives two"},
		{Kind: model.KindLambda, Name: "orders:live", Region: "us-east-1",
			Sides: []model.FoundSide{{Weight: 0.9}, {Weight: 0.1}}, CanaryPercent: model.Pct(10)},
		{Kind: model.KindCodeDeploy, Name: "web-app/web-bg", Region: "us-east-1", Status: "InProgress",
			Sides: []model.FoundSide{{Weight: 90}, {Weight: 10}}, CanaryPercent: model.Pct(10), Changed: fixNow.Add(-3 * time.Minute)},
	}
}

// runAll runs cmd and every command its messages lead to, feeding each
// message back, as bubbletea would; bounded in count. A command still
// waiting after a second is an open cockpit's snapshot subscription,
// which only returns when its cockpit closes: it is left to itself.
func runAll(t *testing.T, m tea.Model, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 200 {
			t.Fatal("commands did not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(time.Second):
			continue
		}
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			return
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

func newTestDiscover(t *testing.T, f *fakeDiscovery, w, h int) *DiscoverModel {
	t.Helper()
	m := NewDiscover(f, DiscoverOptions{Renderer: asciiRenderer(), Clock: pclock.NewManual(fixNow)})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func TestDiscoverListsScansAndOpens(t *testing.T) {
	f := &fakeDiscovery{scope: DiscoverScope{Profile: "prod-admin", Regions: []string{"us-east-1"}, Production: true},
		scan: DiscoverResult{Found: foundFixture(), At: fixNow, Calls: 21}}
	m := newTestDiscover(t, f, 120, 30)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "no scan yet") || !strings.Contains(v, "[PROD]") {
		t.Fatalf("before the scan:\n%s", v)
	}
	runAll(t, m, m.Init())
	v := ansi.Strip(m.View())
	for _, want := range []string{"checkout rule 10", "90%/10%", "canary 10%", "changed 12m00s ago", "perch marker",
		"3 target groups", "orders:live", "web-app/web-bg", "InProgress", "scanned 0s ago with 21 AWS calls", "profile prod-admin"} {
		if !strings.Contains(v, want) {
			t.Errorf("list lacks %q:\n%s", want, v)
		}
	}
	// / filters.
	for _, k := range []string{"/", "o", "r", "d", "enter"} {
		runAll(t, m, func() tea.Msg { return keyMsg(k) })
	}
	if v := ansi.Strip(m.View()); strings.Contains(v, "checkout rule 10") || !strings.Contains(v, "orders:live") {
		t.Fatalf("filter ord:\n%s", v)
	}
	// enter opens the cockpit; esc closes its session and returns.
	runAll(t, m, func() tea.Msg { return keyMsg("enter") })
	if m.cockpit == nil || len(f.opened) != 1 || f.opened[0] != "orders:live" {
		t.Fatalf("enter: cockpit %v, opened %v, status %q", m.cockpit != nil, f.opened, m.status)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "orders:live") || !strings.Contains(v, "esc") {
		t.Fatalf("cockpit:\n%s", v)
	}
	runAll(t, m, func() tea.Msg { return keyMsg("esc") })
	if m.cockpit != nil || f.closed != 1 {
		t.Fatalf("esc: cockpit still open %v, sessions closed %d", m.cockpit != nil, f.closed)
	}
	// R rescans.
	before := f.scans
	runAll(t, m, func() tea.Msg { return keyMsg("R") })
	if f.scans != before+1 {
		t.Fatalf("R: %d scans, want %d", f.scans, before+1)
	}
}

func TestDiscoverCommandLine(t *testing.T) {
	f := &fakeDiscovery{scope: DiscoverScope{Regions: []string{"us-east-1"}}, scan: DiscoverResult{Found: foundFixture(), At: fixNow}}
	m := newTestDiscover(t, f, 120, 30)
	runAll(t, m, m.Init())
	typeLine := func(line string) {
		runAll(t, m, func() tea.Msg { return keyMsg(":") })
		for _, r := range line {
			runAll(t, m, func() tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} })
		}
		runAll(t, m, func() tea.Msg { return keyMsg("enter") })
	}
	typeLine("region eu-west-1")
	if len(f.regions) != 1 || f.regions[0] != "eu-west-1" || f.scans != 2 {
		t.Fatalf(":region: set %v, %d scans", f.regions, f.scans)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "eu-west-1") {
		t.Fatalf("scope after :region:\n%s", v)
	}
	typeLine("profile prod-admin")
	if len(f.profiles) != 1 || f.profiles[0] != "prod-admin" {
		t.Fatalf(":profile: %v", f.profiles)
	}
	typeLine("target checkout")
	if m.cockpit == nil || f.opened[len(f.opened)-1] != "checkout" {
		t.Fatalf(":target: cockpit %v, opened %v, status %q", m.cockpit != nil, f.opened, m.status)
	}
	// The command line works over a cockpit too: :ls goes back.
	typeLine("ls")
	if m.cockpit != nil || f.closed != 1 {
		t.Fatalf(":ls from the cockpit: open %v, closed %d", m.cockpit != nil, f.closed)
	}
	typeLine("target nope")
	if m.cockpit != nil || !strings.Contains(m.status, `no target "nope"`) {
		t.Fatalf(":target nope: %q", m.status)
	}
	typeLine("bogus")
	if !strings.Contains(m.status, `"bogus" is not a command`) {
		t.Fatalf(":bogus: %q", m.status)
	}
	// Completion: tab takes the suggestion.
	runAll(t, m, func() tea.Msg { return keyMsg(":") })
	for _, r := range "region e" {
		runAll(t, m, func() tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} })
	}
	runAll(t, m, func() tea.Msg { return keyMsg("tab") })
	if got := m.line.input.Value(); got != "region eu-west-1" {
		t.Fatalf("completion: %q", got)
	}
}

func TestGoldenDiscover(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		t.Run(itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) {
			f := &fakeDiscovery{scope: DiscoverScope{Profile: "prod-admin", Regions: []string{"us-east-1"}, Production: true},
				scan: DiscoverResult{Found: foundFixture(), At: fixNow.Add(-2 * time.Minute), Calls: 21}}
			m := newTestDiscover(t, f, sz.w, sz.h)
			runAll(t, m, m.Init())
			v := ansi.Strip(m.View())
			if n := strings.Count(v, "\n") + 1; n != sz.h {
				t.Errorf("%d lines, want %d", n, sz.h)
			}
			golden.RequireEqual(t, []byte(v))
		})
	}
}

// A fast typist's ":region x" arrives as one message: it still opens the
// command line, with the rest in it.
func TestDiscoverCommandInOneBurst(t *testing.T) {
	f := &fakeDiscovery{scope: DiscoverScope{Regions: []string{"us-east-1"}}, scan: DiscoverResult{Found: foundFixture(), At: fixNow}}
	m := newTestDiscover(t, f, 120, 30)
	runAll(t, m, m.Init())
	runAll(t, m, func() tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(":region eu-west-1")} })
	runAll(t, m, func() tea.Msg { return keyMsg("enter") })
	if m.cockpit != nil || len(f.regions) != 1 || f.regions[0] != "eu-west-1" {
		t.Fatalf("burst: cockpit %v, regions %v", m.cockpit != nil, f.regions)
	}
}
