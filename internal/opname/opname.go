// Package opname is the rule for an operator's name that the contract and
// the ChatHub API share: trimmed, 1 to 100 characters, no control
// characters. It knows nothing else, so the domain and the API client can
// both use it without knowing each other.
package opname

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLength is the longest operator name ChatHub accepts, in Unicode code
// points.
const MaxLength = 100

// Normalize trims the white space around name, as the worker and the API
// docs do before sending it.
func Normalize(name string) string { return strings.TrimSpace(name) }

// Check reports why a (normalized) operator name would be rejected, or ""
// when it is acceptable.
func Check(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case name == "":
		return "must not be blank"
	case utf8.RuneCountInString(name) > MaxLength:
		return "must be at most 100 characters"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}
