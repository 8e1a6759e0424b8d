package cli

import (
	"log/slog"
	"os"
	"regexp"
	"strings"
)

// The diagnostic log gets error strings from the SDK and the adapters.
// None of them carries a credential today, but a future SDK's debug
// text, a presigned URL or a wrapped HTTP dump could: the redactor makes
// sure such a string loses its secret before it reaches the file.

// secretPatterns match the places a SigV4 secret or signature shows up
// in text: query strings, headers and the Authorization header's fields.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(x-amz-security-token|x-amz-signature|x-amz-credential|signature|aws_secret_access_key|aws_session_token|secretaccesskey|sessiontoken)(["']?\s*[=:]\s*["']?)[^\s&,;"']+`),
	regexp.MustCompile(`(?i)(authorization)(["']?\s*[=:]\s*["']?)[^\n"']+`),
	// Session tokens are long base64 blobs; nothing else perch logs is.
	regexp.MustCompile(`[A-Za-z0-9+/=]{120,}`),
}

const redacted = "[redacted]"

// redactor scrubs the secret values perch can know (from the environment)
// and anything shaped like a credential.
type redactor struct {
	values []string
}

func newRedactor() *redactor {
	r := &redactor{}
	for _, k := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"} {
		// Short values ("test") would redact ordinary words.
		if v := os.Getenv(k); len(v) >= 8 {
			r.values = append(r.values, v)
		}
	}
	return r
}

func (r *redactor) scrub(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, redacted)
	}
	for i, p := range secretPatterns {
		if i == len(secretPatterns)-1 {
			s = p.ReplaceAllString(s, redacted)
			continue
		}
		s = p.ReplaceAllString(s, "${1}${2}"+redacted)
	}
	return s
}

// replaceAttr is a slog.HandlerOptions.ReplaceAttr: it sees the message
// and every attribute, errors included, as text.
func (r *redactor) replaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.scrub(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(r.scrub(v.Error()))
		case []byte:
			a.Value = slog.StringValue(r.scrub(string(v)))
		default:
			a.Value = slog.StringValue(r.scrub(a.Value.String()))
		}
	}
	return a
}
