package broker

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
)

// campaign waits until this worker is elected, and returns the key's
// revision; false when ctx ended first.
func (l *Leader) campaign(ctx context.Context) (uint64, bool) {
	for ctx.Err() == nil {
		w, err := l.kv.Watch(ctx, LeaderKey)
		if err != nil {
			l.log.Warn().Err(err).Msg("cannot watch the lead; trying again")
			if ctxtime.Sleep(ctx, time.Second) != nil {
				return 0, false
			}
			continue
		}
		rev, ok := l.stand(ctx, w)
		w.Stop()
		if ok {
			return rev, true
		}
	}
	return 0, false
}

// stand watches the key and takes it when it is free or its holder went
// silent for the lease's length.
func (l *Leader) stand(ctx context.Context, w jetstream.KeyWatcher) (uint64, bool) {
	var seen uint64 // the revision last seen held; 0: free
	var since time.Time
	var holder string
	// silent is since when NATS has known nobody listening for the
	// holder, without a renewal since (zero: it answered).
	var silent time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	free := false
	for {
		// A key that names this worker is a lease it lost track of (a
		// renewal whose answer was lost): nobody else holds it.
		if free || (seen != 0 && (time.Since(since) >= l.ttl || holder == l.name || l.gone(ctx, holder, &silent))) {
			if rev, ok := l.take(ctx, seen); ok {
				return rev, true
			}
			free = false
		}
		if seen != 0 {
			// Ask again whether the holder is gone every goneEvery (at
			// most a fifth of the lease), and take over when the lease
			// runs out.
			timer.Reset(min(max(time.Until(since.Add(l.ttl)), 0), l.ttl/5, goneEvery))
		}
		select {
		case e, open := <-w.Updates():
			switch {
			case !open:
				return 0, false
			case e == nil: // the current value has been delivered
				free = seen == 0
			case e.Operation() != jetstream.KeyValuePut:
				seen, free = 0, true
			default:
				seen, since, silent = e.Revision(), time.Now(), time.Time{}
				var v lease
				_ = json.Unmarshal(e.Value(), &v)
				if v.Owner != holder && v.Owner != l.name {
					l.log.Info().Str("worker", l.name).Str("leader", v.Owner).Msg("this worker stands by: another leads; it takes over if that one stops")
				}
				holder = v.Owner
			}
		case <-timer.C:
		case <-ctx.Done():
			return 0, false
		}
	}
}

// goneEvery is how often a standby asks whether the worker that leads is
// gone. A fifth of the lease (12 s at the default minute) made a standby
// take over from a crashed worker long after its messages were due again
// (ACK_WAIT, 10 s); an answer, or NATS saying nobody listens, costs one
// round trip.
const goneEvery = 2 * time.Second

// goneFor is how long NATS must know nobody listening for the worker that
// leads before a standby takes over: longer than a reconnect takes
// (nats.go waits ReconnectWait, 1 s, between tries), so that a leader whose
// connection blinked is not taken for gone while it still works.
const goneFor = 2*goneEvery + time.Second

// gone reports whether the worker named holder is gone: NATS has known
// nobody listening on its subject for goneFor, with no renewal meanwhile
// (silent is since when; zero when it answered).
func (l *Leader) gone(ctx context.Context, holder string, silent *time.Time) bool {
	if holder == "" || holder == l.name {
		return false
	}
	reqCtx, cancel := context.WithTimeout(ctx, l.ttl/10)
	defer cancel()
	_, err := l.nc.RequestWithContext(reqCtx, AliveSubject(l.kv.Bucket(), holder), nil)
	if !errors.Is(err, nats.ErrNoResponders) {
		*silent = time.Time{}
		return false
	}
	if silent.IsZero() {
		*silent = time.Now()
	}
	if time.Since(*silent) < goneFor {
		return false
	}
	l.log.Warn().Str("leader", holder).Msg("the worker that led is gone; taking over without waiting for its lease")
	return true
}

// take writes this worker's name into the key, expecting it at revision
// rev (0: absent or deleted).
func (l *Leader) take(ctx context.Context, rev uint64) (uint64, bool) {
	opCtx, cancel := context.WithTimeout(ctx, l.ttl/5)
	defer cancel()
	var next uint64
	var err error
	if rev == 0 {
		next, err = l.kv.Create(opCtx, LeaderKey, l.value())
	} else {
		next, err = l.kv.Update(opCtx, LeaderKey, l.value(), rev)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		l.log.Warn().Err(err).Msg("cannot take the lead")
	}
	return next, err == nil
}
