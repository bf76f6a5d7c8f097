package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// entry is one employee's part of an intake batch.
type entry struct {
	id    string
	org   int
	items []*item

	rec employee.Record
	rev uint64
	// write: the merged record has to be written.
	write bool
	// guessed: the record came from the cache (or was assumed new), not
	// from a read; only a successful revision-checked write confirms it.
	guessed bool
	err     error
}

// maxRounds bounds how often a record write that lost a race is merged
// again within one batch.
const maxRounds = 8

// record merges each employee's events into their record and writes the
// records that changed, all at once, each checked against the revision it
// was read at. The first round works from the cache: the record this
// worker last read or wrote, or none for an employee it has not seen. A
// record another writer changed meanwhile is read and merged again.
func (in *Intake) record(ctx context.Context, entries []*entry) {
	todo, fresh := entries, false
	for range maxRounds {
		if fresh {
			in.each(ctx, todo, func(ctx context.Context, e *entry) { in.merge(ctx, e, true) })
		} else {
			// From the cache: no round trip to overlap.
			for _, e := range todo {
				in.merge(ctx, e, false)
			}
		}
		var writes, verify []*entry
		for _, e := range todo {
			switch {
			case e.err != nil:
			case e.write:
				writes = append(writes, e)
			case e.guessed:
				// Nothing to write, so nothing confirms the guess: read.
				verify = append(verify, e)
			}
		}
		todo, fresh = verify, true
		for i, err := range putAll(ctx, in.store, writes) {
			e := writes[i]
			switch {
			case errors.Is(err, ErrConflict):
				in.cfg.Metrics.KVConflict()
				in.cache.drop(e.id)
				todo = append(todo, e)
			case err != nil:
				e.err = fmt.Errorf("cannot write the employee's record: %w", err)
			default:
				in.cache.put(e.id, e.rec, e.rev)
			}
		}
		if len(todo) == 0 {
			break
		}
	}
	for _, e := range todo {
		e.err = fmt.Errorf("cannot write the employee's record: %w after %d tries", ErrConflict, maxRounds)
	}
	for _, e := range entries {
		if e.err == nil {
			continue
		}
		in.log.Warn().Err(e.err).Str("employee_id", e.id).Msg("will retry")
		for _, it := range e.items {
			if it.outcome == nil {
				it.outcome = ptr(retry(in.cfg.backoffDelay(it.msg.Delivered), "store"))
			}
		}
	}
}

// merge gets one employee's record (from the store when fresh, else from
// the cache or assumed new) and merges the batch's events into it.
func (in *Intake) merge(ctx context.Context, e *entry, fresh bool) {
	e.write, e.guessed, e.err = false, !fresh, nil
	var rec employee.Record
	var rev uint64
	if fresh {
		var err error
		if rec, rev, err = in.store.Get(ctx, e.id); err != nil {
			e.err = fmt.Errorf("cannot read the employee's record: %w", err)
			return
		}
		in.cache.put(e.id, rec, rev)
	} else {
		rec, rev, _ = in.cache.get(e.id)
	}
	now := in.cfg.Now()
	for _, it := range e.items {
		var changed bool
		it.verdict, it.reason, changed = rec.Merge(it.ev, it.msg.Seq, it.msg.Delivered, it.trace, now)
		e.write = e.write || changed
	}
	for _, it := range e.items {
		it.operator, it.status = rec.OperatorID, rec.OperatorStatus
	}
	e.rec, e.rev = rec, rev
}

// each runs fn for every entry, Concurrency at a time.
func (in *Intake) each(ctx context.Context, entries []*entry, fn func(context.Context, *entry)) {
	sem := make(chan struct{}, in.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, e := range entries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, e)
		})
	}
	wg.Wait()
}

// putAll writes the entries' records at once and sets their new
// revisions; it returns each write's error.
func putAll(ctx context.Context, store Store, entries []*entry) []error {
	if len(entries) == 0 {
		return nil
	}
	writes := make([]Write, len(entries))
	for i, e := range entries {
		writes[i] = Write{Record: e.rec, Revision: e.rev}
	}
	revs, errs := store.PutAll(ctx, writes)
	for i, e := range entries {
		if errs[i] == nil {
			e.rev = revs[i]
		}
	}
	return errs
}
