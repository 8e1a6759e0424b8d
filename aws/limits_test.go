package aws

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// hugeBody answers every request with 200 and size bytes of CBOR-looking
// zeros, streamed (no length) unless announce is set.
func hugeBody(t *testing.T, size int64, announce bool) *httptest.Server {
	t.Helper()
	chunk := make([]byte, 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		if announce {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.WriteHeader(http.StatusOK)
		for sent := int64(0); sent < size; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(int64(len(chunk)), size-sent)]); err != nil {
				return // the client hung up: what it should do
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getMetricData(t *testing.T, url string, o ConfigOptions) error {
	t.Helper()
	o.Region, o.EndpointURL = "us-east-1", url
	o.Credentials = credentials.NewStaticCredentialsProvider("a", "b", "")
	o.MaxAttempts = 3
	cfg, err := LoadConfig(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = cloudwatch.NewFromConfig(cfg).GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(now.Add(-time.Hour)), EndTime: awssdk.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: awssdk.String("q"), Expression: awssdk.String("1")}},
	})
	return err
}

// A 200 MB GetMetricData body, streamed or announced, is refused at the
// limit: it is neither read whole nor held (before: io.ReadAll took it
// all, about 550 MB resident).
func TestHugeResponseBodyIsRefusedWithoutTheMemory(t *testing.T) {
	const size = 200 << 20
	for _, announce := range []bool{false, true} {
		srv := hugeBody(t, size, announce)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := getMetricData(t, srv.URL, ConfigOptions{})
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("announced=%v: %v after %v, %.1f MiB allocated", announce, err, time.Since(start).Round(time.Millisecond), float64(allocated)/(1<<20))
		var tooLarge *ResponseTooLargeError
		if !errors.As(err, &tooLarge) {
			t.Fatalf("announced=%v: err %v, want the body refused", announce, err)
		}
		if msg := DescribeError(err); !strings.Contains(msg, "16 MiB") {
			t.Errorf("described as %q", msg)
		}
		// The limit is 16 MiB. The CBOR deserializer reads with io.ReadAll,
		// whose buffer grows by a quarter at a time at this size: reaching
		// the limit allocates about four times it (66 MiB measured), and
		// reading the whole 200 MB body about a gigabyte.
		bound := uint64(6 * DefaultMaxResponseBytes)
		if raceEnabled {
			bound *= 2
		}
		if allocated > bound {
			t.Errorf("announced=%v: %d MiB allocated for a refused body, bound %d MiB", announce, allocated>>20, bound>>20)
		}
	}
}

// An endpoint that accepts the connection and never answers: the call
// ends at the deadline, with every retry inside it.
func TestEveryCallHasADeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for range 32 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	start := time.Now()
	err = getMetricData(t, "http://"+ln.Addr().String(), ConfigOptions{CallTimeout: 300 * time.Millisecond})
	took := time.Since(start)
	if err == nil || !strings.Contains(DescribeError(err), "timed out") {
		t.Fatalf("err %v (%q)", err, DescribeError(err))
	}
	if took > 5*time.Second {
		t.Fatalf("a call with a 300ms deadline took %v", took)
	}
}

// AWS quotes ARNs in full; the described error keeps the reason after
// them instead of cutting it off.
func TestDescribedErrorsKeepTheirCause(t *testing.T) {
	rule := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/checkout-production/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	tg := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-green-production/73e2d6bc24d8a067"
	msg := "Rule '" + rule + "' cannot forward to target group '" + tg + "' because the target group is not attached to the load balancer of listener 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/checkout-production/50dc6c495c0c9188/f2f7dc8efc522ab2'"
	got := oneLine(msg)
	for _, want := range []string{"listener-rule/app/checkout-production/…/9683b2d02a6cabee", "targetgroup/checkout-green-production/73e2d6bc24d8a067",
		"because the target group is not attached to the load balancer", "listener/app/checkout-production/…/f2f7dc8efc522ab2"} {
		if !strings.Contains(got, want) {
			t.Errorf("described error lacks %q:\n%s", want, got)
		}
	}
	// Past the bound, the middle goes: the operation and the cause stay.
	long := "operation error X: Y, " + strings.Repeat("noise ", 100) + "the cause"
	if got := oneLine(long); !strings.HasPrefix(got, "operation error X: Y") || !strings.HasSuffix(got, "the cause") || len([]rune(got)) > maxErrRunes {
		t.Errorf("long error: %q", got)
	}
	// A message that fits keeps its ARNs whole: which account and role
	// were denied matters.
	denied := "User: arn:aws:iam::123456789012:role/Deployer is not authorized to perform: elasticloadbalancing:ModifyRule"
	if got := oneLine(denied); got != denied {
		t.Errorf("a short message changed: %q", got)
	}
}
