package broker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
)

// TestIntakeBufferIsBoundedInBytes: 60 messages of 200 KB wait in the
// stream; the loop takes one and then has no room. The client pulled
// ahead no more than its byte bound (one pull of at least the server's
// largest message, 1 MiB here), not the 500 messages its count allows.
func TestIntakeBufferIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	nc, js := jetStream(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	const n, size = 60, 200 << 10
	body := []byte(strings.Repeat("x", size))
	for i := range n {
		if _, err := js.Publish(ctx, fmt.Sprint("s.", i), body); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "S", jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	c := broker.NewConsumer(cons, nc, zerolog.Nop())
	c.BufferBytes = 1 << 20
	runCtx, stop := context.WithCancel(ctx)
	taken := make(chan struct{})
	room := 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(runCtx, func() int { return room }, nil, func(batch []*broker.Message, _ bool) {
			if len(batch) > 0 && room > 0 {
				room = 0
				close(taken)
			}
		})
	}()
	<-taken
	var info *jetstream.ConsumerInfo
	await.True(t, 10*time.Second, func() bool {
		info, err = cons.Info(ctx)
		return err == nil && info.NumAckPending > 1 && info.Delivered.Stream == uint64(info.NumAckPending)
	}, "the client to pull ahead")
	// Count once no pull is under way (or everything came).
	before := info.NumAckPending
	await.True(t, 5*time.Second, func() bool {
		info, err = cons.Info(ctx)
		return err == nil && (info.NumWaiting == 0 || info.NumAckPending == n)
	}, "no pull under way")
	stop()
	<-done
	limit := (int(nc.MaxPayload()) + 64<<10) / size * 2
	if info.NumAckPending > limit {
		t.Errorf("the client holds %d messages of %d KB (%d before), want at most %d: bounded in bytes", info.NumAckPending, size>>10, before, limit)
	}
	t.Logf("the client pulled %d of %d messages ahead", info.NumAckPending, n)
}
