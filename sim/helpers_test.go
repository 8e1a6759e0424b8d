package sim

import (
	"net/http"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
func (c fixedClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.t.Add(d)
	return ch
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

func newFormRequest(body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

var epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// recorder captures what the traffic models publish.
type recorder struct{ datums []metrics.Datum }

func (r *recorder) Put(d metrics.Datum) { r.datums = append(r.datums, d) }
