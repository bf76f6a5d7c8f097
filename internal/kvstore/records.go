package kvstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Records calls each with every employee's record and its revision, one
// at a time, so that a walk over many employees holds one record at once.
// A record that cannot be decoded is passed to bad.
func (s *Store) Records(ctx context.Context, each func(employee.Record, uint64), bad func(key string, err error)) error {
	return s.watch(ctx, EmployeePrefix+"*", func(e jetstream.KeyValueEntry) {
		rec, err := s.Decode(e.Value())
		if err != nil {
			bad(e.Key(), err)
			return
		}
		each(rec, e.Revision())
	})
}

// Claimed returns the operators of the organization that the store gives
// to an employee, with the employee's id.
func (s *Store) Claimed(ctx context.Context, org int) (map[int64]string, error) {
	out := map[int64]string{}
	prefix := "op." + strconv.Itoa(org) + "."
	err := s.watch(ctx, prefix+"*", func(e jetstream.KeyValueEntry) {
		if id, err := strconv.ParseInt(strings.TrimPrefix(e.Key(), prefix), 10, 64); err == nil {
			out[id] = string(e.Value())
		}
	})
	return out, err
}
