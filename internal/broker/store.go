package broker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Store keeps the worker's employee records, operator claims, the list of
// unfinished work and the guard's state in a JetStream key-value bucket,
// with revision checks.
//
// Keys: emp.<token> an employee's record; op.<org>.<operator> the employee
// an operator belongs to; todo.<token> an employee whose work is
// unfinished; guard.<org> and guard.<org>.wait.<token> the guard. A token
// is the employee id in unpadded base64url: ids may hold any Unicode, and
// keys may not.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
	// prefix is the subject a key's value is published to, less the key;
	// directGet the subject that reads the bucket's stream directly.
	prefix, directGet string
	reads             reads
}

// NewStore wraps a bucket; js publishes the revision-checked writes.
func NewStore(js jetstream.JetStream, kv jetstream.KeyValue) *Store {
	return &Store{js: js, kv: kv, prefix: "$KV." + kv.Bucket() + ".", directGet: apiPrefix(js) + "DIRECT.GET.KV_" + kv.Bucket()}
}

// apiPrefix is the subject prefix of js's API.
func apiPrefix(js jetstream.JetStream) string {
	switch o := js.Options(); {
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	}
	return "$JS.API."
}

// Key prefixes of the bucket.
const (
	EmployeePrefix = "emp."
	todoPrefix     = "todo."
)

// Token is the employee id as one key or subject token.
func Token(employeeID string) string { return base64.RawURLEncoding.EncodeToString([]byte(employeeID)) }

// EmployeeOf decodes a Token back into the employee id.
func EmployeeOf(token string) (string, bool) {
	id, err := base64.RawURLEncoding.DecodeString(token)
	return string(id), err == nil && len(id) > 0
}

// EmployeeKey is the record's key.
func EmployeeKey(employeeID string) string { return EmployeePrefix + Token(employeeID) }

// ClaimKey is the key that says which employee an operator belongs to.
func ClaimKey(org int, operatorID int64) string {
	return "op." + strconv.Itoa(org) + "." + strconv.FormatInt(operatorID, 10)
}

// Put writes the record if its revision is still rev (0: the key must not
// exist), and returns the new revision; employee.ErrConflict when the
// record changed meanwhile.
func (s *Store) Put(ctx context.Context, rec employee.Record, rev uint64) (uint64, error) {
	revs, errs := s.PutAll(ctx, []employee.Versioned{{Record: &rec, Rev: rev}})
	return revs[0], errs[0]
}

// PutAll writes the records at once, each as Put does: asynchronous
// publishes, one wait for all their acks.
func (s *Store) PutAll(ctx context.Context, recs []employee.Versioned) ([]uint64, []error) {
	msgs := make([]*nats.Msg, len(recs))
	errs := make([]error, len(recs))
	revs := make([]uint64, len(recs))
	for i, v := range recs {
		data, err := EncodeRecord(*v.Record)
		if err != nil {
			errs[i] = fmt.Errorf("cannot encode the employee's record: %w", err)
			continue
		}
		msgs[i] = nats.NewMsg(s.prefix + EmployeeKey(v.Record.EmployeeID))
		msgs[i].Data = data
		msgs[i].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(v.Rev, 10))
	}
	publishAll(ctx, s.js, msgs, errs, revs)
	for i, err := range errs {
		if err != nil && msgs[i] != nil {
			errs[i] = putError(err)
		}
	}
	return revs, errs
}

// putError tells a lost race (wrong last sequence) from other failures.
func putError(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return employee.ErrConflict
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return employee.ErrConflict
	}
	return fmt.Errorf("cannot write the employee's record: %w", err)
}

// Note keeps the employee on the list of unfinished work, due at at.
func (s *Store) Note(ctx context.Context, employeeID string, at time.Time) error {
	if _, err := s.kv.Put(ctx, todoPrefix+Token(employeeID), []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("cannot note the employee's unfinished work: %w", err)
	}
	return nil
}

// Done takes the employee off the list of unfinished work.
func (s *Store) Done(ctx context.Context, employeeID string) error {
	if err := s.kv.Purge(ctx, todoPrefix+Token(employeeID)); err != nil {
		return fmt.Errorf("cannot take the employee off the unfinished work: %w", err)
	}
	return nil
}

// Unfinished calls each with every employee on the list of unfinished
// work and when their work is due.
func (s *Store) Unfinished(ctx context.Context, each func(employeeID string, at time.Time)) error {
	return s.watch(ctx, todoPrefix+"*", func(e jetstream.KeyValueEntry) {
		if id, ok := EmployeeOf(strings.TrimPrefix(e.Key(), todoPrefix)); ok {
			at, _ := time.Parse(time.RFC3339Nano, string(e.Value()))
			each(id, at)
		}
	})
}

// watch reads the current value of every key matching filter.
func (s *Store) watch(ctx context.Context, filter string, each func(jetstream.KeyValueEntry)) error {
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", filter, err)
	}
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return nil
			}
			each(e)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Records calls each with every employee's record and its revision, one
// at a time, so that a walk over many employees holds one record at once.
// A record that cannot be decoded is passed to bad.
func (s *Store) Records(ctx context.Context, each func(employee.Record, uint64), bad func(key string, err error)) error {
	return s.watch(ctx, EmployeePrefix+"*", func(e jetstream.KeyValueEntry) {
		rec, err := DecodeRecord(e.Value())
		if err != nil {
			bad(e.Key(), err)
			return
		}
		each(rec, e.Revision())
	})
}
