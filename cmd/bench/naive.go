package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// benchNaive is what the API docs' examples would do per event: list the
// organization (their advice against duplicates), create one operator,
// publish the result, ack; one event at a time.
func benchNaive(ctx context.Context, n int) (float64, error) {
	w, cons, err := seededWorld(ctx, n)
	if err != nil {
		return 0, err
	}
	defer w.close()
	if _, err := w.js.CreateStream(ctx, jetstream.StreamConfig{Name: "HR_RESULTS", Subjects: []string{"hr.results.>"}}); err != nil {
		return 0, err
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hub, err := chathub.NewClient(w.simURL, token, chathub.WithRateLimit(0), chathub.WithCacheTTL(0),
		chathub.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		return 0, err
	}
	v, err := hrevent.NewValidator()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	for got := 0; got < n; got++ {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return 0, err
		}
		e, err := v.Parse(m.Data())
		if err != nil {
			return 0, err
		}
		ops, err := hub.ListOperators(ctx, e.OrganizationID)
		if err != nil {
			return 0, err
		}
		if len(chathub.FindByName(ops, e.Name)) == 0 {
			if _, err := hub.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: e.OrganizationID, Name: e.Name}}); err != nil {
				return 0, err
			}
		}
		res := &nats.Msg{Subject: "hr.results.applied.hired", Data: []byte(`{"outcome":"applied"}`), Header: nats.Header{}}
		res.Header.Set(jetstream.MsgIDHeader, "result:"+e.ID)
		if _, err := w.js.PublishMsg(ctx, res); err != nil {
			return 0, err
		}
		if err := m.DoubleAck(ctx); err != nil {
			return 0, fmt.Errorf("ack: %w", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
