package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/nats-io/nats.go/jetstream"
)

// collector records when each event's result arrived.
type collector struct {
	mu      sync.Mutex
	arrived map[string]time.Time
	n       chan struct{}
	cc      jetstream.ConsumeContext
}

// collect follows HR_RESULTS once the worker has created it.
func (w *world) collect(ctx context.Context) (*collector, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := w.js.Stream(ctx, "HR_RESULTS"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the worker did not create HR_RESULTS")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cons, err := w.js.OrderedConsumer(ctx, "HR_RESULTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	c := &collector{arrived: map[string]time.Time{}, n: make(chan struct{}, 1)}
	c.cc, err = cons.Consume(func(m jetstream.Msg) {
		r, err := hrevent.DecodeResult(m.Data())
		if err != nil {
			return
		}
		c.mu.Lock()
		if _, seen := c.arrived[r.EventID]; !seen {
			c.arrived[r.EventID] = time.Now()
		}
		c.mu.Unlock()
		select {
		case c.n <- struct{}{}:
		default:
		}
	})
	return c, err
}

// wait blocks until n distinct events have results.
func (c *collector) wait(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got := len(c.arrived)
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-c.n:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			return fmt.Errorf("%d of %d results after %s", got, n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *collector) stop() { c.cc.Stop() }

// latencies returns publish-to-result latencies of the events in sent.
func (c *collector) latencies(sent *sync.Map) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	sent.Range(func(k, v any) bool {
		if at, ok := c.arrived[k.(string)]; ok {
			out = append(out, at.Sub(v.(time.Time)))
		}
		return true
	})
	return out
}

// last is when the last result arrived.
func (c *collector) last() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Time
	for _, at := range c.arrived {
		if at.After(t) {
			t = at
		}
	}
	return t
}
