package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/ctxtime"
)

// RateKey is where the shared schedule of ChatHub calls lives in the
// bucket.
const RateKey = "ratelimit.chathub"

// schedule is the value at RateKey: when the last call started, and until
// when a 429 holds every caller (Unix nanoseconds).
type schedule struct {
	Last int64 `json:"last"`
	Hold int64 `json:"hold"`
}

// Shared paces ChatHub calls across every process of a deployment (the
// active worker and the tools), through one key of the bucket they share,
// so that CHATHUB_RATE_LIMIT is a budget for the deployment. It is a
// chathub.Limiter whose schedule is kept in KV. A caller claims the next
// start (one interval after the last one, and after any hold) with a
// write checked against the revision it read, then waits for it: the one
// whose write lands has that start, the others look again. Claiming
// before the wait keeps the write's round trip out of the interval; the
// interval's margin absorbs the scheduler's delays between a planned
// start and the call. Its precision is that of the replicas' clocks (NTP
// keeps them within milliseconds).
type Shared struct {
	kv       jetstream.KeyValue
	interval time.Duration
	now      func() time.Time

	// turn lets one caller of this process compete at a time; only
	// replicas race each other for the key.
	turn chan struct{}
}

// NewShared paces calls to rps a second, with margin for jitter (see
// chathub.Interval), across everyone using kv.
func NewShared(kv jetstream.KeyValue, rps float64, margin time.Duration) (*Shared, error) {
	if rps <= 0 {
		return nil, fmt.Errorf("rate %v is not positive", rps)
	}
	return &Shared{kv: kv, interval: chathub.Interval(rps, margin), now: time.Now, turn: make(chan struct{}, 1)}, nil
}

// Wait returns once the caller may start its call, or ctx is done.
func (s *Shared) Wait(ctx context.Context) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.turn }()
	for range 1000 {
		sch, rev, err := s.load(ctx)
		if err != nil {
			return err
		}
		sch.Last = max(sch.Last+int64(s.interval), sch.Hold, s.now().UnixNano())
		switch err := s.store(ctx, sch, rev); {
		case err == nil:
			if d := time.Unix(0, sch.Last).Sub(s.now()); d > 0 {
				return ctxtime.Sleep(ctx, d)
			}
			return nil
		case !errors.Is(err, errConflict):
			return err
		}
	}
	return errors.New("cannot start a ChatHub call: the shared schedule keeps changing")
}

// HoldUntil makes every replica's callers wait until t.
func (s *Shared) HoldUntil(t time.Time) {
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
	entry, err := s.kv.Get(ctx, RateKey)
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
		_, err = s.kv.Create(ctx, RateKey, data)
	} else {
		_, err = s.kv.Update(ctx, RateKey, data, rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errConflict
	case err != nil:
		return fmt.Errorf("cannot write the shared rate limit: %w", err)
	}
	return nil
}
