package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// jetStream starts a NATS server of the test's own (on loopback, its store
// in a temp directory) and connects to it; both end with the test.
func jetStream(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// lead runs l's campaign until the test ends; the channel it returns gets
// the time l lost a lead it held.
func lead(t *testing.T, l *broker.Leader) <-chan time.Time {
	ctx, stop := context.WithCancel(context.Background())
	ended := make(chan struct{})
	lost := make(chan time.Time, 1)
	go func() {
		defer close(ended)
		l.Lead(ctx, func(stop, lead context.Context) {
			select {
			case <-stop.Done():
			case <-lead.Done():
				select {
				case lost <- time.Now():
				default:
				}
			}
		})
	}()
	t.Cleanup(func() { stop(); <-ended })
	return lost
}
