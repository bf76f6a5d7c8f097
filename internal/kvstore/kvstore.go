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

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/handlers"
)

// Store implements handlers.Store on a KV bucket.
type Store struct {
	kv jetstream.KeyValue
}

// New wraps a bucket.
func New(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// EmployeeKey is the record's key. Employee ids may hold any Unicode, and
// KV keys may not, so the id is base64url-encoded.
func EmployeeKey(employeeID string) string {
	return "emp." + base64.RawURLEncoding.EncodeToString([]byte(employeeID))
}

// ClaimKey is the key that says which employee an operator belongs to.
func ClaimKey(orgID int, operatorID int64) string {
	return "op." + strconv.Itoa(orgID) + "." + strconv.FormatInt(operatorID, 10)
}

// Get returns the employee's record and revision, or revision 0.
func (s *Store) Get(ctx context.Context, employeeID string) (handlers.Record, uint64, error) {
	entry, err := s.kv.Get(ctx, EmployeeKey(employeeID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return handlers.Record{}, 0, nil
	}
	if err != nil {
		return handlers.Record{}, 0, fmt.Errorf("cannot get record: %w", err)
	}
	var r handlers.Record
	if err := json.Unmarshal(entry.Value(), &r); err != nil {
		return handlers.Record{}, 0, fmt.Errorf("cannot decode record at revision %d: %w", entry.Revision(), err)
	}
	return r, entry.Revision(), nil
}

// Put writes the record if the revision still holds.
func (s *Store) Put(ctx context.Context, r handlers.Record, revision uint64) (uint64, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("cannot encode record: %w", err)
	}
	key := EmployeeKey(r.EmployeeID)
	var rev uint64
	if revision == 0 {
		rev, err = s.kv.Create(ctx, key, data)
	} else {
		rev, err = s.kv.Update(ctx, key, data, revision)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, handlers.ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("cannot put record: %w", err)
	}
	return rev, nil
}

// Claim records that the operator is the employee's, unless it is already
// another's. Creating the key is atomic, so two workers cannot both win.
func (s *Store) Claim(ctx context.Context, orgID int, operatorID int64, employeeID string) (bool, error) {
	key := ClaimKey(orgID, operatorID)
	_, err := s.kv.Create(ctx, key, []byte(employeeID))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("cannot claim operator: %w", err)
	}
	entry, err := s.kv.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("cannot read operator claim: %w", err)
	}
	return string(entry.Value()) == employeeID, nil
}
