package aws

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Defaults for ConfigOptions' limits.
const (
	// DefaultCallTimeout bounds one AWS operation, retries included, when
	// nothing tighter does: opening a target, the fleet's metrics, the
	// credential providers' own calls.
	DefaultCallTimeout = 10 * time.Second
	// DefaultMaxResponseBytes bounds one response body. The largest perch
	// asks for is a GetMetricData page (at most 100,800 datapoints: about
	// 2 MB of CBOR, 7 MB as the XML older protocols use); a body past the
	// limit is refused without being read, so a hostile or broken endpoint
	// cannot make perch hold hundreds of megabytes.
	DefaultMaxResponseBytes = 16 << 20
)

// withDeadline bounds every operation of every client built from the
// config, its retries included, so nothing waits on an endpoint that
// accepts a connection and never answers.
func withDeadline(d time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("perchDeadline",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// withBodyLimit wraps every response body, closest to the transport so
// that every deserializer (and the SDK's draining on close) reads through
// it, before anything else reads it.
func withBodyLimit(limit int64) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("perchBodyLimit",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				resp, ok := out.RawResponse.(*smithyhttp.Response)
				if err != nil || !ok || resp.Body == nil {
					return out, md, err
				}
				if resp.ContentLength > limit {
					resp.Body.Close()
					return out, md, &ResponseTooLargeError{Limit: limit, Size: resp.ContentLength}
				}
				resp.Body = &limitedBody{rc: resp.Body, left: limit, limit: limit}
				return out, md, nil
			}), middleware.After)
	}
}

// ResponseTooLargeError is a response body past the limit. It is not
// retried: the same endpoint would send the same.
type ResponseTooLargeError struct {
	Limit int64
	Size  int64 // as announced; 0 when the body had no length
}

func (e *ResponseTooLargeError) Error() string {
	if e.Size > 0 {
		return fmt.Sprintf("response body of %d bytes is over perch's %d MiB limit: refused unread", e.Size, e.Limit>>20)
	}
	return fmt.Sprintf("response body is over perch's %d MiB limit: refused, the rest unread", e.Limit>>20)
}

// RetryableError tells the SDK's retryer not to ask again.
func (e *ResponseTooLargeError) RetryableError() bool { return false }

type limitedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more says whether the body ends exactly at the limit.
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n > 0 {
			return 0, &ResponseTooLargeError{Limit: b.limit}
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
