// Package kvstore keeps the worker's employee records and operator claims
// in a JetStream key-value bucket, with revision checks so that several
// workers never both act on a stale record.
package kvstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/handlers"
)

// Store implements handlers.Store on a KV bucket.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
	// prefix is the subject a key's value is published to, less the key.
	prefix string
}

// New wraps a bucket; js publishes the batched writes.
func New(js jetstream.JetStream, kv jetstream.KeyValue) *Store {
	return &Store{js: js, kv: kv, prefix: "$KV." + kv.Bucket() + "."}
}

// EmployeePrefix begins the key of every employee record.
const EmployeePrefix = "emp."

// Token is the employee id as one subject token. Employee ids may hold any
// Unicode, and keys and subjects may not, so the id is base64url-encoded.
func Token(employeeID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(employeeID))
}

// EmployeeOf decodes a Token back into the employee id.
func EmployeeOf(token string) (string, bool) {
	id, err := base64.RawURLEncoding.DecodeString(token)
	return string(id), err == nil && len(id) > 0
}

// EmployeeKey is the record's key.
func EmployeeKey(employeeID string) string { return EmployeePrefix + Token(employeeID) }

// ChangesSubject is the subject on which the bucket's stream carries every
// record written: a consumer of it is notified of each change.
func ChangesSubject(bucket string) string { return "$KV." + bucket + "." + EmployeePrefix + ">" }

// ClaimKey is the key that says which employee an operator belongs to.
func ClaimKey(orgID int, operatorID int64) string {
	return "op." + strconv.Itoa(orgID) + "." + strconv.FormatInt(operatorID, 10)
}

// Get returns the employee's record and revision, or revision 0.
func (s *Store) Get(ctx context.Context, employeeID string) (employee.Record, uint64, error) {
	entry, err := s.kv.Get(ctx, EmployeeKey(employeeID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return employee.Record{}, 0, nil
	}
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("cannot get record: %w", err)
	}
	r, err := s.Decode(entry.Value())
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("%w at revision %d", err, entry.Revision())
	}
	return r, entry.Revision(), nil
}

// Decode reads a record as the bucket keeps it.
func (s *Store) Decode(value []byte) (employee.Record, error) {
	var r employee.Record
	if err := json.Unmarshal(value, &r); err != nil {
		return employee.Record{}, fmt.Errorf("cannot decode record: %w", err)
	}
	return r, nil
}

// PutAll writes the records at once: each is published to its key's
// subject asynchronously, with the revision it was read at as the expected
// last sequence of that subject (0: the key must not exist), and the acks
// are awaited together. A write whose record changed meanwhile gets
// handlers.ErrConflict.
func (s *Store) PutAll(ctx context.Context, writes []handlers.Write) ([]uint64, []error) {
	revs := make([]uint64, len(writes))
	errs := make([]error, len(writes))
	futures := make([]jetstream.PubAckFuture, len(writes))
	for i, w := range writes {
		data, err := json.Marshal(w.Record)
		if err != nil {
			errs[i] = fmt.Errorf("cannot encode record: %w", err)
			continue
		}
		msg := nats.NewMsg(s.prefix + EmployeeKey(w.Record.EmployeeID))
		msg.Data = data
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(w.Revision, 10))
		if futures[i], err = s.js.PublishMsgAsync(msg); err != nil {
			errs[i] = fmt.Errorf("cannot put record: %w", err)
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			revs[i] = ack.Sequence
		case err := <-f.Err():
			errs[i] = putError(err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("cannot put record: %w", ctx.Err())
		}
	}
	return revs, errs
}

// putError tells a lost race (wrong last sequence) from other failures.
func putError(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return handlers.ErrConflict
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return handlers.ErrConflict
	}
	return fmt.Errorf("cannot put record: %w", err)
}

// ClaimAll makes the claims at once: each key is created by an
// asynchronous publish that only succeeds if the key does not exist yet; a
// key that exists is read to see whose it is.
func (s *Store) ClaimAll(ctx context.Context, claims []handlers.Claim) ([]bool, []error) {
	ours := make([]bool, len(claims))
	errs := make([]error, len(claims))
	futures := make([]jetstream.PubAckFuture, len(claims))
	for i, c := range claims {
		msg := nats.NewMsg(s.prefix + ClaimKey(c.OrganizationID, c.OperatorID))
		msg.Data = []byte(c.EmployeeID)
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		var err error
		if futures[i], err = s.js.PublishMsgAsync(msg); err != nil {
			errs[i] = fmt.Errorf("cannot claim operator: %w", err)
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			ours[i] = true
		case err := <-f.Err():
			if !errors.Is(putError(err), handlers.ErrConflict) {
				errs[i] = fmt.Errorf("cannot claim operator: %w", err)
				continue
			}
			c := claims[i]
			entry, err := s.kv.Get(ctx, ClaimKey(c.OrganizationID, c.OperatorID))
			if err != nil {
				errs[i] = fmt.Errorf("cannot read operator claim: %w", err)
				continue
			}
			ours[i] = string(entry.Value()) == c.EmployeeID
		case <-ctx.Done():
			errs[i] = fmt.Errorf("cannot claim operator: %w", ctx.Err())
		}
	}
	return ours, errs
}
