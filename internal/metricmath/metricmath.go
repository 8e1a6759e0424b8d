// Package metricmath reads the identifiers of CloudWatch metric-math
// expressions. It is shared so that aws (which prefixes query Ids to pool
// many targets in one call) does not depend on the config parser.
package metricmath

import "strings"

// IDs lists the identifiers an expression uses outside quoted strings:
// function names and the IDs of other queries alike.
func IDs(expr string) []string {
	var out []string
	walkIdents(expr, func(id string) string { out = append(out, id); return id })
	return out
}

// Rename rewrites the identifiers of expr that rename maps, leaving quoted
// strings (SEARCH terms, labels) alone.
func Rename(expr string, rename map[string]string) string {
	return walkIdents(expr, func(id string) string {
		if to, ok := rename[id]; ok {
			return to
		}
		return id
	})
}

// walkIdents calls fn on every identifier outside quotes and returns expr
// with each replaced by what fn returned.
func walkIdents(expr string, fn func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(expr))
			b.WriteString(expr[i:j])
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(expr) && (expr[j] == '_' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= 'A' && expr[j] <= 'Z' || expr[j] >= '0' && expr[j] <= '9') {
				j++
			}
			b.WriteString(fn(expr[i:j]))
			i = j
		case c >= '0' && c <= '9' || c == '.':
			// A number, with an exponent (1e3) that is not an identifier.
			j := i + 1
			for j < len(expr) && (expr[j] >= '0' && expr[j] <= '9' || expr[j] == '.' || expr[j] == 'e' || expr[j] == 'E') {
				j++
			}
			b.WriteString(expr[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
