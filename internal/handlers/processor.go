package handlers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// Config tunes a Processor; zero fields take the defaults of WithDefaults.
type Config struct {
	// Owner names this worker in leases; unique per running worker.
	Owner string
	// BatchMaxSize is the most names in one synchronize call.
	BatchMaxSize int
	// LeaseTTL bounds how long one worker may act for an employee before
	// another may take over.
	LeaseTTL time.Duration
	// MaxAttempts is the delivery after which a retryable failure becomes
	// a failed result.
	MaxAttempts int
	// RetryBase and RetryMax shape the exponential backoff between
	// deliveries.
	RetryBase, RetryMax time.Duration
	// Concurrency bounds KV operations and status calls in flight (status
	// calls are paced by the rate limiter as well).
	Concurrency int
	// Now is the clock.
	Now func() time.Time
	// Metrics counts conflicts, adoptions and batch sizes; may be nil.
	Metrics *metrics.Metrics
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Owner == "" {
		c.Owner = fmt.Sprintf("worker-%d", time.Now().UnixNano())
	}
	if c.BatchMaxSize <= 0 {
		c.BatchMaxSize = 100
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 40
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.Concurrency <= 0 {
		// KV round trips dominate a batch; they are cheap to overlap.
		c.Concurrency = 128
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// recordCacheSize bounds the records kept between batches (a few MiB).
const recordCacheSize = 10_000

// Processor turns a batch of HR event messages into ChatHub calls and one
// decision per message.
type Processor struct {
	cache     *recordCache
	cfg       Config
	store     Store
	hub       ChatHub
	validator *hrevent.Validator
	log       zerolog.Logger
}

// New returns a Processor.
func New(cfg Config, store Store, hub ChatHub, v *hrevent.Validator, log zerolog.Logger) *Processor {
	return &Processor{cfg: cfg.WithDefaults(), store: store, hub: hub, validator: v, log: log, cache: newRecordCache(recordCacheSize)}
}

// item is one message of the batch.
type item struct {
	msg      Message
	ev       hrevent.Event
	verdict  verdict
	decision *Decision
}

// employee is the batch's work for one employee.
type employee struct {
	id    string
	org   int
	items []*item

	rec Record
	rev uint64
	// acting: this worker holds the lease and calls ChatHub for them.
	acting bool
	// loaded: the record was read and the batch's events merged into it.
	loaded bool
	// write: the merged record has to be written.
	write bool
	// guessed: the record came from the cache (or was assumed new), not
	// from a read; only a successful revision-checked write confirms it.
	guessed bool
	// learned is what this worker did in ChatHub, kept while save merges
	// it into a record that changed meanwhile.
	learned Record
	// hadPending: an earlier attempt may have created their operator.
	hadPending bool
	// stale: a worker left its lease behind (it died or could not save),
	// so it may have changed the operator's status without recording it.
	stale bool
	// busyUntil: another worker holds the lease until then.
	busyUntil time.Time
	// err is retryable trouble; failure is ChatHub's refusal for this
	// employee alone.
	err     error
	failure string
}

// Process handles one batch. Every message gets a decision; the ChatHub
// work is done per batch: one synchronize call per organization and
// BatchMaxSize names, status calls in parallel.
func (p *Processor) Process(ctx context.Context, msgs []Message) ([]Decision, Report) {
	items := p.parse(msgs)
	var emps []*employee
	byID := map[string]*employee{}
	for _, it := range items {
		if it.decision != nil {
			continue
		}
		ev := it.ev
		e := byID[ev.EmployeeID]
		if e == nil {
			e = &employee{id: ev.EmployeeID, org: ev.OrganizationID}
			byID[ev.EmployeeID] = e
			emps = append(emps, e)
		}
		e.items = append(e.items, it)
	}

	emps = p.carryRemainders(emps)

	// ChatHub work must end while the leases still hold.
	workCtx, cancel := context.WithDeadline(ctx, p.cfg.Now().Add(p.cfg.LeaseTTL*3/4))
	defer cancel()
	p.load(workCtx, emps)
	p.resolve(workCtx, emps)
	p.create(workCtx, emps)
	p.each(workCtx, emps, p.setStatus)
	// Saving is not cut short by the work deadline: what was done in
	// ChatHub must be written down.
	p.save(context.WithoutCancel(ctx), emps)

	var report Report
	for _, e := range emps {
		p.decide(e, &report)
	}
	decisions := make([]Decision, len(items))
	for i, it := range items {
		decisions[i] = *it.decision
	}
	return decisions, report
}

// carryRemainders leaves, while the stream holds more events, the hires
// that would make an organization's last synchronize call of this batch
// short of BatchMaxSize for the next batch, where they fill a call with
// the hires that follow. Only employees whose one event here is a hire are
// carried, each message at most once, so none waits more than one batch.
func (p *Processor) carryRemainders(emps []*employee) []*employee {
	more := false
	for _, e := range emps {
		for _, it := range e.items {
			more = more || it.msg.MoreWaiting
		}
	}
	if !more {
		return emps
	}
	// Per organization: all its plain hires, and those that may be carried.
	hires, carriable := map[int]int{}, map[int][]*employee{}
	for _, e := range emps {
		if len(e.items) == 1 && e.items[0].ev.Kind == hrevent.Hired && e.items[0].decision == nil {
			hires[e.org]++
			if !e.items[0].msg.Carried {
				carriable[e.org] = append(carriable[e.org], e)
			}
		}
	}
	carried := map[*employee]bool{}
	for org, group := range carriable {
		short := min(hires[org]%p.cfg.BatchMaxSize, len(group))
		for _, e := range group[len(group)-short:] {
			carried[e] = true
			e.items[0].decision = &Decision{Action: Carry}
		}
	}
	if len(carried) == 0 {
		return emps
	}
	kept := emps[:0:0]
	for _, e := range emps {
		if !carried[e] {
			kept = append(kept, e)
		}
	}
	return kept
}

// parse validates the messages on every core: schema validation is the
// batch's main CPU cost.
func (p *Processor) parse(msgs []Message) []*item {
	items := make([]*item, len(msgs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(msgs)/32))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				it := &item{msg: msgs[i]}
				ev, err := p.validator.Parse(msgs[i].Body)
				if err != nil {
					it.decision = p.rejected(msgs[i], err)
				}
				it.ev = ev
				items[i] = it
			}
		})
	}
	wg.Wait()
	return items
}

// each runs fn for every employee, Concurrency at a time.
func (p *Processor) each(ctx context.Context, emps []*employee, fn func(context.Context, *employee)) {
	sem := make(chan struct{}, p.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, e := range emps {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, e)
		})
	}
	wg.Wait()
}

// maxRounds bounds how often a record write that lost a race is merged
// again within one batch.
const maxRounds = 8

// load reads every employee's record, merges the batch's events into it
// and, when ChatHub needs changing, takes the lease and records the intent
// to create. The writes of a round go out together, each checked against
// the revision it read; a record another worker changed meanwhile is read
// and merged again in the next round.
func (p *Processor) load(ctx context.Context, emps []*employee) {
	for _, e := range emps {
		slices.SortStableFunc(e.items, func(a, b *item) int {
			switch {
			case a.ev.Before(b.ev):
				return -1
			case b.ev.Before(a.ev):
				return 1
			}
			return 0
		})
	}
	// The first round works from the cache: a record this worker wrote
	// last, or none for an employee it has not seen. Later rounds read.
	todo, fresh := emps, false
	for range maxRounds {
		p.each(ctx, todo, func(ctx context.Context, e *employee) { p.read(ctx, e, fresh) })
		var writes, verify []*employee
		for _, e := range todo {
			switch {
			case e.write:
				writes = append(writes, e)
			case e.guessed:
				// Nothing to write, so nothing confirms the guess: read.
				verify = append(verify, e)
			}
		}
		todo, fresh = verify, true
		for i, err := range p.putAll(ctx, writes) {
			e := writes[i]
			switch {
			case errors.Is(err, ErrConflict):
				// Another worker wrote in between (or the cache was
				// stale): read and merge again.
				p.cfg.Metrics.KVConflict()
				p.cache.drop(e.id)
				todo = append(todo, e)
			case err != nil:
				e.acting = false
				e.err = fmt.Errorf("cannot write the employee's record: %w", err)
			default:
				e.loaded = true
				p.cache.put(e.id, e.rec, e.rev)
			}
		}
		if len(todo) == 0 {
			return
		}
	}
	for _, e := range todo {
		e.acting = false
		e.err = fmt.Errorf("cannot write the employee's record: %w after %d tries", ErrConflict, maxRounds)
	}
}

// read gets one employee's record (from the store when fresh, else from
// the cache or assumed new) and merges the batch's events into it; e.write
// says whether the record must be written.
func (p *Processor) read(ctx context.Context, e *employee, fresh bool) {
	e.write, e.acting, e.stale, e.busyUntil, e.guessed = false, false, false, time.Time{}, !fresh
	var rec Record
	var rev uint64
	if fresh {
		var err error
		if rec, rev, err = p.store.Get(ctx, e.id); err != nil {
			e.err = fmt.Errorf("cannot read the employee's record: %w", err)
			return
		}
		p.cache.put(e.id, rec, rev)
	} else {
		rec, rev, _ = p.cache.get(e.id)
	}
	if rev == 0 {
		rec = Record{EmployeeID: e.id, OrganizationID: e.org}
	}
	for _, it := range e.items {
		if it.ev.OrganizationID != rec.OrganizationID {
			it.decision = p.final(it, hrevent.Failed, fmt.Sprintf(
				"organizationId %d differs from %d in this employee's earlier events; an employee belongs to one organization",
				it.ev.OrganizationID, rec.OrganizationID), nil)
			continue
		}
		if it.verdict = rec.merge(it.ev, it.msg.Seq); it.verdict == verdictNew {
			e.write = true
		}
	}
	e.hadPending = rec.Pending != nil
	now := p.cfg.Now()
	// While another worker holds the lease it may be changing ChatHub for
	// this employee, so what the record says cannot be relied on yet:
	// record the events and leave the calls to it.
	switch {
	case rec.leasedByOther(p.cfg.Owner, now):
		e.busyUntil = rec.Lease.Until
	case !rec.converged() || rec.Lease != nil:
		e.stale = rec.Lease != nil
		rec.Lease = &Lease{Owner: p.cfg.Owner, Until: now.Add(p.cfg.LeaseTTL)}
		if rec.needsCreate() && rec.Pending == nil {
			rec.Pending = &Pending{Name: rec.Name, Since: now}
		}
		e.acting, e.write = true, true
	}
	e.rec, e.rev = rec, rev
	e.loaded = !e.write && fresh
}

// putAll writes the employees' records at once and sets their new
// revisions; it returns each write's error.
func (p *Processor) putAll(ctx context.Context, emps []*employee) []error {
	if len(emps) == 0 {
		return nil
	}
	writes := make([]Write, len(emps))
	for i, e := range emps {
		writes[i] = Write{Record: e.rec, Revision: e.rev}
	}
	revs, errs := p.store.PutAll(ctx, writes)
	for i, e := range emps {
		if errs[i] == nil {
			e.rev = revs[i]
		}
	}
	return errs
}

// save writes what this worker learned of ChatHub and releases the
// leases, all at once. On a conflict it keeps what others merged
// meanwhile and writes again.
func (p *Processor) save(ctx context.Context, emps []*employee) {
	var todo []*employee
	for _, e := range emps {
		if e.acting {
			e.learned = e.rec
			todo = append(todo, e)
		}
	}
	for range maxRounds {
		for _, e := range todo {
			e.rec.OperatorID, e.rec.OperatorStatus, e.rec.Pending = e.learned.OperatorID, e.learned.OperatorStatus, e.learned.Pending
			if e.rec.Lease != nil && e.rec.Lease.Owner == p.cfg.Owner {
				e.rec.Lease = nil
			}
		}
		var again []*employee
		for i, err := range p.putAll(ctx, todo) {
			e := todo[i]
			switch {
			case errors.Is(err, ErrConflict):
				p.cfg.Metrics.KVConflict()
				again = append(again, e)
			case err != nil:
				p.cache.drop(e.id)
				e.err = errors.Join(e.err, fmt.Errorf("cannot write the employee's record: %w", err))
			default:
				p.cache.put(e.id, e.rec, e.rev)
			}
		}
		if len(again) == 0 {
			return
		}
		todo = nil
		p.each(ctx, again, func(ctx context.Context, e *employee) {
			rec, rev, err := p.store.Get(ctx, e.id)
			if err != nil {
				e.err = errors.Join(e.err, fmt.Errorf("cannot read the employee's record: %w", err))
				return
			}
			e.rec, e.rev = rec, rev
		})
		for _, e := range again {
			if e.rev != 0 {
				todo = append(todo, e)
			}
		}
	}
	for _, e := range todo {
		e.err = errors.Join(e.err, fmt.Errorf("cannot write the employee's record: %w after %d tries", ErrConflict, maxRounds))
	}
}

// fail records a ChatHub error against the employee: a refusal of their
// data is final, anything else is tried again.
func (p *Processor) fail(e *employee, what string, err error) {
	if errors.Is(err, chathub.ErrPermanent) || errors.Is(err, chathub.ErrInvalid) {
		e.failure = "ChatHub refused to " + what + ": " + err.Error()
		return
	}
	e.err = err
}

// backoffDelay is the jittered exponential delay before delivery n+1.
func (p *Processor) backoffDelay(delivered int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.cfg.RetryBase,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         p.cfg.RetryMax,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	d := b.NextBackOff()
	for i := 1; i < delivered && d < p.cfg.RetryMax; i++ {
		d = b.NextBackOff()
	}
	return d
}
