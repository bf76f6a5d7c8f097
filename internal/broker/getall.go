package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// reads batches the records that many looks ask for at once into one
// batched direct get of the bucket's stream (NATS 2.11 and later): a
// hire's look costs the server a share of one request, not one of its
// own. No goroutine runs in the background: a caller that finds fewer
// than readers batches under way runs batches until none is waiting.
type reads struct {
	mu      sync.Mutex
	waiting []*read
	running int
	// single: the server does not batch; records are read one by one.
	single atomic.Bool
}

// read is one record asked for, and its answer once done is closed.
type read struct {
	id   string
	rec  employee.Record
	rev  uint64
	err  error
	done chan struct{}
}

const (
	// readers bounds the batches under way at once; readBatch the
	// records in one (the server takes up to 1024 subjects).
	readers   = 2
	readBatch = 256
	// readTimeout bounds the wait for one batch, which the server answers
	// within milliseconds when it can.
	readTimeout = 2 * time.Second
)

// Get returns the employee's record and revision, or revision 0.
func (s *Store) Get(ctx context.Context, employeeID string) (employee.Record, uint64, error) {
	r := &read{id: employeeID, done: make(chan struct{})}
	b := &s.reads
	b.mu.Lock()
	b.waiting = append(b.waiting, r)
	run := b.running < readers
	if run {
		b.running++
	}
	b.mu.Unlock()
	if run {
		// The batches serve other looks too, which share ctx's lifetime
		// (the pipeline's work).
		s.readAll(ctx)
	}
	select {
	case <-r.done:
		return r.rec, r.rev, r.err
	case <-ctx.Done():
		return employee.Record{}, 0, fmt.Errorf("cannot read the employee's record: %w", ctx.Err())
	}
}

// readAll reads batches of the waiting records until none is left.
func (s *Store) readAll(ctx context.Context) {
	b := &s.reads
	for {
		b.mu.Lock()
		n := min(len(b.waiting), readBatch)
		batch := b.waiting[:n:n]
		b.waiting = b.waiting[n:]
		if n == 0 {
			b.waiting = nil
			b.running--
		}
		b.mu.Unlock()
		if n == 0 {
			return
		}
		bctx, cancel := context.WithTimeout(ctx, readTimeout)
		if b.single.Load() || !s.readBatch(bctx, batch) {
			s.readEach(ctx, batch)
		}
		cancel()
		for _, r := range batch {
			close(r.done)
		}
	}
}

// readBatch reads the records of batch in one batched direct get, and
// reports false if the server did not answer as one that batches (each
// is then read on its own). It is written here rather than taken from
// orbit.go's jetstreamext, whose GetLastMsgsFor subscribes with the
// client's default buffer of 65,536 messages per call: half a megabyte
// allocated and cleared for each batch of a few hundred records.
func (s *Store) readBatch(ctx context.Context, batch []*read) bool {
	bySubject := make(map[string]*read, len(batch))
	req := directGet{MultiLast: make([]string, len(batch)), Batch: len(batch)}
	for i, r := range batch {
		req.MultiLast[i] = s.prefix + EmployeeKey(r.id)
		bySubject[req.MultiLast[i]] = r
	}
	body, _ := json.Marshal(req)
	// The answers are filed as they come, on the subscription's own
	// goroutine, under mu; end says how the batch ended once ended is
	// closed.
	var mu sync.Mutex
	var end error
	ended := make(chan struct{})
	finish := func(err error) {
		select {
		case <-ended:
		default:
			end = err
			close(ended)
		}
	}
	nc := s.js.Conn()
	sub, err := nc.Subscribe(nc.NewInbox(), func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		status := m.Header.Get("Status")
		switch {
		case len(m.Data) == 0 && (status == "204" || status == "404"):
			finish(nil) // the end of the batch, or none of them exists
		case status == "408" || status == "" && m.Header.Get("Nats-Num-Pending") == "":
			finish(errSingle) // a server that does not batch
		case status != "":
			finish(fmt.Errorf("the stream answered status %s %s", status, m.Header.Get("Description")))
		default:
			if r := bySubject[m.Header.Get(jetstream.SubjectHeader)]; r != nil {
				r.rec, r.rev, r.err = decodeEntry(m)
			}
		}
	})
	if err == nil {
		defer func() { _ = sub.Unsubscribe() }()
		err = nc.PublishRequest(s.directGet, sub.Subject, body)
	}
	if err == nil {
		select {
		case <-ended:
		case <-ctx.Done():
		}
		mu.Lock()
		defer mu.Unlock()
		finish(ctx.Err())
		err = end
	}
	switch {
	case errors.Is(err, errSingle):
		s.reads.single.Store(true)
		return false
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		// No answer to the batch (a replica catching up after a node
		// restart may not serve one): the records are read one by one.
		return false
	case err != nil:
		for _, r := range batch {
			r.rec, r.rev, r.err = employee.Record{}, 0, fmt.Errorf("cannot read the employee's record: %w", err)
		}
	}
	return true
}

// errSingle: the server answered as one that does not batch direct gets.
var errSingle = errors.New("the server does not batch direct gets")

// directGet asks a stream for the last message of each subject.
type directGet struct {
	MultiLast []string `json:"multi_last"`
	Batch     int      `json:"batch"`
}

// decodeEntry decodes a record read from the stream; a key deleted or
// purged holds none, and is written next at the marker's revision.
func decodeEntry(m *nats.Msg) (employee.Record, uint64, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("cannot read the employee's record: no sequence in the answer: %w", err)
	}
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
		return employee.Record{}, seq, nil
	}
	rec, err := DecodeRecord(m.Data)
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("%w at revision %d", err, seq)
	}
	return rec, seq, nil
}

// readEach reads the records of batch one by one, a few at a time.
func (s *Store) readEach(ctx context.Context, batch []*read) {
	var wg sync.WaitGroup
	next := make(chan *read)
	for range min(len(batch), 16) {
		wg.Go(func() {
			for r := range next {
				r.rec, r.rev, r.err = s.getOne(ctx, r.id)
			}
		})
	}
	for _, r := range batch {
		next <- r
	}
	close(next)
	wg.Wait()
}

// getOne reads one record on its own.
func (s *Store) getOne(ctx context.Context, employeeID string) (employee.Record, uint64, error) {
	entry, err := s.kv.Get(ctx, EmployeeKey(employeeID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return employee.Record{}, 0, nil
	}
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("cannot read the employee's record: %w", err)
	}
	r, err := DecodeRecord(entry.Value())
	if err != nil {
		return employee.Record{}, 0, fmt.Errorf("%w at revision %d", err, entry.Revision())
	}
	return r, entry.Revision(), nil
}
