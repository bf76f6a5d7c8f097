package broker

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// LeaderKey is the key of the bucket that names the active worker.
const LeaderKey = "leader"

// Leader elects the one active worker among the replicas: the worker whose
// name the key LeaderKey holds. The leader writes the key again every
// TTL/5; a standby that sees the key's revision unchanged for TTL, by its
// own clock, takes it over with a write checked against that revision,
// so that at most one takes it, and no wall clock is compared between
// machines. A leader that could not write the key for TTL less a fifth
// stops all its work before a standby may take over. A leader that stops
// deletes the key, so that a standby takes over at once.
//
// A standby need not wait out the lease of a worker that is gone: every
// worker answers on a subject of its own while its connection lives, and
// when NATS says nobody listens there any more (the process died, and the
// server closed its connection), the standby takes over at once. A
// request that gets no answer proves nothing (the holder may be cut off
// yet alive), so then the lease runs out first.
type Leader struct {
	nc   *nats.Conn
	kv   jetstream.KeyValue
	name string
	ttl  time.Duration
	log  zerolog.Logger
	// leads is set while this worker leads.
	leads atomic.Bool
}

// NewLeader returns the election of name in kv, with leases of ttl; nc
// carries the liveness answers.
func NewLeader(nc *nats.Conn, kv jetstream.KeyValue, name string, ttl time.Duration, log zerolog.Logger) *Leader {
	return &Leader{nc: nc, kv: kv, name: name, ttl: ttl, log: log}
}

// AliveSubject is where a worker answers while its connection lives: a
// standby asks whether the worker named in the lease is gone.
func AliveSubject(bucket, name string) string {
	return "chathub.alive." + Token(bucket) + "." + Token(name)
}

// Leads reports whether this worker is the active one.
func (l *Leader) Leads() bool { return l.leads.Load() }

type lease struct {
	Owner string    `json:"owner"`
	Since time.Time `json:"since"`
}

// Lead campaigns until ctx is done. Each time it is elected, it runs
// work(stop, lead): stop is ctx (a graceful stop), and lead is cancelled
// at once when leadership is lost. Leadership is kept while work runs on
// after stop, and given up once it returns.
func (l *Leader) Lead(ctx context.Context, work func(stop, lead context.Context)) {
	sub, err := l.nc.Subscribe(AliveSubject(l.kv.Bucket(), l.name), func(m *nats.Msg) { _ = m.Respond(nil) })
	if err == nil {
		defer func() { _ = sub.Unsubscribe() }()
	}
	for ctx.Err() == nil {
		rev, ok := l.campaign(ctx)
		if !ok {
			return
		}
		l.log.Info().Str("worker", l.name).Msg("this worker leads: it takes events and calls ChatHub")
		l.leads.Store(true)
		lead, lost := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			work(ctx, lead)
		}()
		rev = l.hold(lead, rev, done, lost)
		lost()
		<-done
		l.leads.Store(false)
		if rev != 0 {
			l.resign(rev)
			return
		}
		l.log.Warn().Str("worker", l.name).Msg("this worker lost the lead; it stands by")
	}
}

// hold renews the lease while work runs, and returns the last revision
// written once work is done; 0 when leadership was lost (lost is then
// called, which stops the work).
func (l *Leader) hold(lead context.Context, rev uint64, done <-chan struct{}, lost func()) uint64 {
	tick := time.NewTicker(l.ttl / 5)
	defer tick.Stop()
	// Cut off from NATS for half of what a standby waits before it takes
	// the worker for gone, the worker stops its work: two must never
	// drive ChatHub at once. Back, the lead is renewed at once.
	down := l.nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING)
	defer l.nc.RemoveStatusListener(down)
	back := l.nc.StatusChanged(nats.CONNECTED)
	defer l.nc.RemoveStatusListener(back)
	var cutOff <-chan time.Time
	renewed := time.Now()
	clean := true // the last renewal went through
	for {
		select {
		case <-done:
			return rev
		case <-down:
			cutOff = time.After(goneFor / 2)
			continue
		case <-cutOff:
			l.log.Error().Msg("cut off from NATS: stopping all work, as a standby may take over")
			lost()
			return 0
		case <-back:
			cutOff = nil
		case <-tick.C:
		}
		sent := time.Now()
		opCtx, cancel := context.WithTimeout(context.WithoutCancel(lead), l.ttl/5)
		next, err := l.kv.Update(opCtx, LeaderKey, l.value(), rev)
		cancel()
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			// Either another worker took over, or an earlier renewal
			// landed while its answer was lost (a node of the cluster
			// restarted) and the lead is still ours. After a renewal that
			// went through, only the key naming this worker says the
			// latter; after one that failed, a key that cannot be read
			// is one more failed renewal.
			var mine bool
			next, mine, err = l.stillMine(lead)
			if !mine && (err == nil || clean) {
				lost()
				return 0
			}
		}
		clean = err == nil
		switch {
		case err == nil:
			rev, renewed = next, sent
		case time.Since(renewed) > l.ttl-l.ttl/5:
			// A standby may take over soon: stop before it can.
			l.log.Error().Err(err).Msg("cannot renew the lead in time; stopping all work")
			lost()
			return 0
		default:
			l.log.Warn().Err(err).Msg("cannot renew the lead; trying again")
		}
	}
}

// stillMine reads the key, and returns its revision if it names this
// worker.
func (l *Leader) stillMine(ctx context.Context) (uint64, bool, error) {
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.ttl/5)
	defer cancel()
	e, err := l.kv.Get(opCtx, LeaderKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	var v lease
	if json.Unmarshal(e.Value(), &v) != nil || v.Owner != l.name {
		return 0, false, nil
	}
	return e.Revision(), true, nil
}

// resign deletes the key if it is still this worker's.
func (l *Leader) resign(rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.kv.Delete(ctx, LeaderKey, jetstream.LastRevision(rev)); err != nil {
		l.log.Warn().Err(err).Msg("cannot hand the lead over; a standby takes it once the lease runs out")
	}
}

func (l *Leader) value() []byte {
	data, _ := json.Marshal(lease{Owner: l.name, Since: time.Now().UTC()})
	return data
}

// Holder names the worker that leads, read from the bucket ("" when none).
func Holder(ctx context.Context, kv jetstream.KeyValue) (string, error) {
	e, err := kv.Get(ctx, LeaderKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var v lease
	_ = json.Unmarshal(e.Value(), &v)
	return v.Owner, nil
}
