// Package ratelimit paces ChatHub calls across every worker of a
// deployment, through one key of the JetStream KV bucket they share, so
// that CHATHUB_RATE_LIMIT is a budget for the deployment, not per replica.
package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// wakeMargin widens each slot a little: a caller that wakes late must not
// bring the next one, woken on time, closer than 1/rps.
const wakeMargin = time.Millisecond

// Key is where the shared schedule lives in the bucket.
const Key = "ratelimit.chathub"

// schedule is the value at Key: when the next call may start, and until
// when a 429 holds every caller (Unix nanoseconds).
type schedule struct {
	Next int64 `json:"next"`
	Hold int64 `json:"hold"`
}

// Shared is a chathub.Limiter whose schedule is kept in KV. Each call takes
// the next free start time with a revision-checked write, so calls of all
// replicas together start at least 1/rps apart. Its precision is that of
// the replicas' clocks (NTP keeps them within milliseconds).
type Shared struct {
	kv       jetstream.KeyValue
	interval time.Duration
	now      func() time.Time

	// mu serialises this process's callers, so that its own goroutines do
	// not race each other for the key; only replicas do.
	mu sync.Mutex
}

// NewShared paces calls to rps a second across everyone using kv.
func NewShared(kv jetstream.KeyValue, rps float64) (*Shared, error) {
	if rps <= 0 {
		return nil, fmt.Errorf("rate %v is not positive", rps)
	}
	return &Shared{kv: kv, interval: time.Duration(float64(time.Second)/rps) + wakeMargin, now: time.Now}, nil
}

// Wait reserves the next start time and sleeps until it.
func (s *Shared) Wait(ctx context.Context) error {
	at, err := s.reserve(ctx)
	if err != nil {
		return err
	}
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reserve takes the next free slot: no earlier than now, the previous
// slot plus the interval, and the end of any hold.
func (s *Shared) reserve(ctx context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 100 {
		sch, rev, err := s.load(ctx)
		if err != nil {
			return time.Time{}, err
		}
		slot := max(s.now().UnixNano(), sch.Next, sch.Hold)
		sch.Next = slot + int64(s.interval)
		if err := s.store(ctx, sch, rev); errors.Is(err, errConflict) {
			continue
		} else if err != nil {
			return time.Time{}, err
		}
		return time.Unix(0, slot), nil
	}
	return time.Time{}, errors.New("cannot reserve a ChatHub call: the shared schedule keeps changing")
}

// HoldUntil makes every replica's callers wait until t.
func (s *Shared) HoldUntil(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 100 {
		sch, rev, err := s.load(ctx)
		if err != nil || sch.Hold >= t.UnixNano() {
			return
		}
		sch.Hold = t.UnixNano()
		if err := s.store(ctx, sch, rev); !errors.Is(err, errConflict) {
			return
		}
	}
}

var errConflict = errors.New("schedule changed")

func (s *Shared) load(ctx context.Context) (schedule, uint64, error) {
	var sch schedule
	entry, err := s.kv.Get(ctx, Key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return sch, 0, nil
	}
	if err != nil {
		return sch, 0, fmt.Errorf("cannot read the shared rate limit: %w", err)
	}
	if err := json.Unmarshal(entry.Value(), &sch); err != nil {
		// A value this worker cannot read is replaced.
		return schedule{}, entry.Revision(), nil
	}
	return sch, entry.Revision(), nil
}

func (s *Shared) store(ctx context.Context, sch schedule, rev uint64) error {
	data, _ := json.Marshal(sch)
	var err error
	if rev == 0 {
		_, err = s.kv.Create(ctx, Key, data)
	} else {
		_, err = s.kv.Update(ctx, Key, data, rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errConflict
	case err != nil:
		return fmt.Errorf("cannot write the shared rate limit: %w", err)
	}
	return nil
}
