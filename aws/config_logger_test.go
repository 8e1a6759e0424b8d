package aws

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// The SDK's default logger writes to stderr, which would draw over the
// cockpit: perch's config sends its lines to perch's own log or nowhere.
func TestSDKLogLinesNeverReachTheTerminal(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	var buf bytes.Buffer
	cfg, err := LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", Credentials: creds,
		Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "failed to discard %d bytes", 42)
	if !strings.Contains(buf.String(), "aws sdk: failed to discard 42 bytes") || !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("SDK warning not in perch's log: %q", buf.String())
	}

	cfg, err = LoadConfig(t.Context(), ConfigOptions{Region: "us-east-1", Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Logger.(logging.Nop); !ok {
		t.Fatalf("without a logger the SDK's lines must be dropped, got %T", cfg.Logger)
	}
}
