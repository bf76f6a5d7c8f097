package chathub

import (
	"errors"

	"github.com/chathub-operator-worker/worker/internal/opname"
)

// ValidateNewOperators checks every item as the API docs ask clients to,
// and returns all problems together, each a *ValidationError naming the
// item's index. Names are checked after trimming.
func ValidateNewOperators(ops []NewOperator) error {
	var errs []error
	for i, op := range ops {
		if op.OrganizationID <= 0 {
			errs = append(errs, &ValidationError{Index: i, Field: "organizationId", Reason: "must be a positive integer"})
		}
		if reason := opname.Check(opname.Normalize(op.Name)); reason != "" {
			errs = append(errs, &ValidationError{Index: i, Field: "name", Reason: reason})
		}
	}
	return errors.Join(errs...)
}
