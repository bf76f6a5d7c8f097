package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// The guard's keys, per organization: guard.<org> holds its state and
// guard.<org>.wait.<employee> each deactivation waiting (or held).
func guardKey(org int) string           { return "guard." + strconv.Itoa(org) }
func waitKey(org int, id string) string { return guardKey(org) + ".wait." + Token(id) }

// State returns the organization's guard state and its revision (0: none).
func (s *Store) State(ctx context.Context, org int) (guard.State, uint64, error) {
	st := guard.State{OrganizationID: org}
	entry, err := s.kv.Get(ctx, guardKey(org))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, 0, nil
	}
	if err != nil {
		return st, 0, fmt.Errorf("cannot read the guard of organization %d: %w", org, err)
	}
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		return st, 0, fmt.Errorf("cannot decode the guard of organization %d: %w", org, err)
	}
	return st, entry.Revision(), nil
}

// PutState writes the state if its revision is still rev (0: only if
// there is none) and returns the new one; employee.ErrConflict when it
// changed.
func (s *Store) PutState(ctx context.Context, st guard.State, rev uint64) (uint64, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	if rev == 0 {
		rev, err = s.kv.Create(ctx, guardKey(st.OrganizationID), data)
	} else {
		rev, err = s.kv.Update(ctx, guardKey(st.OrganizationID), data, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, employee.ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("cannot write the guard of organization %d: %w", st.OrganizationID, err)
	}
	return rev, nil
}

// States returns the guard state of every organization that has one.
func (s *Store) States(ctx context.Context) ([]guard.State, error) {
	var out []guard.State
	err := s.watch(ctx, "guard.*", func(e jetstream.KeyValueEntry) {
		var st guard.State
		if json.Unmarshal(e.Value(), &st) == nil {
			out = append(out, st)
		}
	})
	return out, err
}

// Held returns the organization's held deactivations by employee.
func (s *Store) Held(ctx context.Context, org int) (map[string]guard.Wait, error) {
	out := map[string]guard.Wait{}
	err := s.watch(ctx, guardKey(org)+".wait.*", func(e jetstream.KeyValueEntry) {
		var w guard.Wait
		if json.Unmarshal(e.Value(), &w) == nil {
			out[w.EmployeeID] = w
		}
	})
	return out, err
}

// HeldOne returns the employee's held deactivation in org, if any.
func (s *Store) HeldOne(ctx context.Context, org int, id string) (guard.Wait, bool, error) {
	var w guard.Wait
	entry, err := s.kv.Get(ctx, waitKey(org, id))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return w, false, nil
	case err != nil:
		return w, false, fmt.Errorf("cannot read a held deactivation: %w", err)
	}
	if err := json.Unmarshal(entry.Value(), &w); err != nil {
		return w, false, fmt.Errorf("cannot decode a held deactivation: %w", err)
	}
	return w, true, nil
}

// Hold writes deactivations of the organization a trip holds.
func (s *Store) Hold(ctx context.Context, org int, waits []guard.Wait) error {
	var errs []error
	for _, w := range waits {
		data, _ := json.Marshal(w)
		if _, err := s.kv.Put(ctx, waitKey(org, w.EmployeeID), data); err != nil {
			errs = append(errs, fmt.Errorf("cannot note a held deactivation: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Release drops employees' held deactivations.
func (s *Store) Release(ctx context.Context, org int, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := s.kv.Purge(ctx, waitKey(org, id)); err != nil {
			errs = append(errs, fmt.Errorf("cannot release a held deactivation: %w", err))
		}
	}
	return errors.Join(errs...)
}
