package chathub

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest operator name ChatHub accepts, in Unicode
// code points.
const MaxNameLength = 100

// NormalizeName trims the white space around name, as the worker and the
// API docs do before sending it.
func NormalizeName(name string) string { return strings.TrimSpace(name) }

// CheckName reports why a (normalized) operator name would be rejected, or
// "" when it is acceptable.
func CheckName(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case name == "":
		return "must not be blank"
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "must be at most 100 characters"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// ValidateNewOperators checks every item as the API docs ask clients to,
// and returns all problems together, each a *ValidationError naming the
// item's index. Names are checked after trimming.
func ValidateNewOperators(ops []NewOperator) error {
	var errs []error
	for i, op := range ops {
		if op.OrganizationID <= 0 {
			errs = append(errs, &ValidationError{Index: i, Field: "organizationId", Reason: "must be a positive integer"})
		}
		if reason := CheckName(NormalizeName(op.Name)); reason != "" {
			errs = append(errs, &ValidationError{Index: i, Field: "name", Reason: reason})
		}
	}
	return errors.Join(errs...)
}
