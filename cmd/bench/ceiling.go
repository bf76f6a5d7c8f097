package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// seedEvents publishes n hire events for the ceilings and the naive client.
func seedEvents(ctx context.Context, w *world, n int) error {
	events := make([]event, n)
	ids := make([]string, n)
	for i := range events {
		events[i] = event{id: fmt.Sprint("c", i), kind: "hired", employee: fmt.Sprint("E", i), name: fmt.Sprint("Person ", i),
			org: 1 + i%4, at: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
		ids[i] = events[i].id
	}
	return w.publishAll(ctx, events, ids, nil)
}

// seededWorld is a world whose HR_EVENTS holds n hires, with a consumer
// on them.
func seededWorld(ctx context.Context, n int) (*world, jetstream.Consumer, error) {
	w, err := newWorld(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := seedEvents(ctx, w, n); err != nil {
		w.close()
		return nil, nil, err
	}
	cons, err := w.js.CreateConsumer(ctx, "HR_EVENTS", jetstream.ConsumerConfig{
		Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000, AckWait: time.Minute,
	})
	if err != nil {
		w.close()
		return nil, nil, err
	}
	return w, cons, nil
}

// waitAcked waits until the consumer has nothing left unacknowledged.
func waitAcked(ctx context.Context, cons jetstream.Consumer) error {
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
}

// benchAckOnly is the broker's ceiling here: a pull consumer that only
// acknowledges.
func benchAckOnly(ctx context.Context, n int) (float64, error) {
	w, cons, err := seededWorld(ctx, n)
	if err != nil {
		return 0, err
	}
	defer w.close()
	start := time.Now()
	for got := 0; got < n; {
		batch, err := cons.Fetch(400, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return 0, err
		}
		for m := range batch.Messages() {
			_ = m.Ack()
			got++
		}
	}
	if err := waitAcked(ctx, cons); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// benchFloor is the broker work the guarantees need per event and nothing
// else: fetch, one KV write, one result publish, one ack, all asynchronous
// with one wait per fetched batch.
func benchFloor(ctx context.Context, n int) (float64, error) {
	w, cons, err := seededWorld(ctx, n)
	if err != nil {
		return 0, err
	}
	defer w.close()
	if _, err := w.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "floor"}); err != nil {
		return 0, err
	}
	if _, err := w.js.CreateStream(ctx, jetstream.StreamConfig{Name: "HR_RESULTS", Subjects: []string{"hr.results.>"}, Duplicates: 20 * time.Minute}); err != nil {
		return 0, err
	}
	result := []byte(`{"specversion":"1.0","type":"hr.operator.result","data":{"outcome":"applied"}}`)
	start := time.Now()
	for got := 0; got < n; {
		batch, err := cons.Fetch(400, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return 0, err
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
			md, _ := m.Metadata()
			seq := strconv.FormatUint(md.Sequence.Stream, 10)
			if _, err := w.js.PublishAsync("$KV.floor.emp."+seq, m.Data()); err != nil {
				return 0, err
			}
			res := &nats.Msg{Subject: "hr.results.applied.hired", Data: result, Header: nats.Header{}}
			res.Header.Set(jetstream.MsgIDHeader, "result:"+seq)
			if _, err := w.js.PublishMsgAsync(res); err != nil {
				return 0, err
			}
		}
		select {
		case <-w.js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			return 0, fmt.Errorf("publishes did not complete")
		}
		for _, m := range msgs {
			_ = m.Ack()
		}
		got += len(msgs)
	}
	if err := waitAcked(ctx, cons); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
