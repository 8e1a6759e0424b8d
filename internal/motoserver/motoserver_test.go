package motoserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartServesAndResets(t *testing.T) {
	url := Start(t)
	s := &Server{URL: url}
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		t.Fatalf("data.json: %d %q", resp.StatusCode, body)
	}
}

func TestStopKillsProcess(t *testing.T) {
	s, err := Launch(context.Background())
	if err != nil {
		SkipOrFail(t, err)
	}
	s.Stop()
	select {
	case <-s.done:
	default:
		t.Fatal("process still running after Stop")
	}
	if _, err := http.Get(s.URL + "/moto-api/data.json"); err == nil {
		t.Fatal("moto still answering after Stop")
	}
}

func TestLaunchWithoutPython(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Launch(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

// recorder stands in for testing.T to see what SkipOrFail does.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestSkipOrFailPolicy(t *testing.T) {
	missing := fmt.Errorf("%w: python3 not on PATH", ErrUnavailable)
	for _, c := range []struct {
		ci         string
		err        error
		skip, fail bool
	}{
		{"", missing, true, false},
		{"true", missing, false, true},
		{"", errors.New("moto did not become ready"), false, true},
	} {
		t.Setenv("CI", c.ci)
		r := &recorder{}
		SkipOrFail(r, c.err)
		if r.skipped != c.skip || r.failed != c.fail {
			t.Errorf("CI=%q err=%v: skipped %v failed %v", c.ci, c.err, r.skipped, r.failed)
		}
	}
}
