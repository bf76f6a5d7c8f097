package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
)

// Message is one message a consumer loop took off its stream. It keeps
// what its handler needs and the subject its acknowledgement goes to, not
// the client's message, so that a worker holding many costs little.
type Message struct {
	Subject string
	Data    []byte
	// Seq is the message's sequence in its stream; Delivered its delivery
	// attempt, from 1.
	Seq       uint64
	Delivered int
	reply     string
	nc        *nats.Conn
}

// The JetStream acknowledgement protocol, as the client's Msg sends it.
var (
	ackDone     = []byte("+ACK")
	ackProgress = []byte("+WPI")
)

// Ack says the message is done with.
func (m *Message) Ack() error { return m.nc.Publish(m.reply, ackDone) }

// Nak hands the message back, to be delivered again after delay.
func (m *Message) Nak(delay time.Duration) error {
	if delay <= 0 {
		return m.nc.Publish(m.reply, []byte("-NAK"))
	}
	return m.nc.Publish(m.reply, fmt.Appendf(nil, `-NAK {"delay": %d}`, delay.Nanoseconds()))
}

// Term says the message is never to be delivered again, and why.
func (m *Message) Term(reason string) error {
	return m.nc.Publish(m.reply, []byte("+TERM "+reason))
}

// InProgress tells the server the message is still being worked on, so
// that it is not delivered elsewhere after AckWait.
func (m *Message) InProgress() error { return m.nc.Publish(m.reply, ackProgress) }

// Consumer runs a pull consumer: it takes what is at hand, hands it over
// in batches, and reports whether the stream had nothing more for it.
type Consumer struct {
	cons jetstream.Consumer
	nc   *nats.Conn
	log  zerolog.Logger
	// Buffer is how many messages the client pulls ahead; BufferBytes
	// how many bytes one pull asks for at most.
	Buffer, BufferBytes int
	beat                Beat
}

// NewConsumer returns a loop over cons; nc sends the acknowledgements.
func NewConsumer(cons jetstream.Consumer, nc *nats.Conn, log zerolog.Logger) *Consumer {
	return &Consumer{cons: cons, nc: nc, log: log, Buffer: 500, BufferBytes: 4 << 20}
}

// pullBytes is what one pull asks for at most: BufferBytes, but never less
// than the largest message the server takes (with room for its headers),
// which a smaller pull could never deliver. A new pull goes out only as
// the loop takes messages, so what the client holds ahead is about one or
// two pulls' worth; by count alone, 500 messages of up to 1 MB each could
// be 500 MB.
func (c *Consumer) pullBytes() int {
	return max(c.BufferBytes, int(c.nc.MaxPayload())+64<<10)
}

// Alive says whether the loop made progress within limit.
func (c *Consumer) Alive(limit time.Duration) error { return c.beat.Alive(limit) }

// noRoomPoll is how often the loop asks for room while there is none.
const noRoomPoll = 100 * time.Millisecond

// atHand is how long the loop waits for a message it expects to be
// buffered already.
const atHand = 100 * time.Microsecond

// Quiet is how long no message must come for the loop to tell its
// handler the stream is quiet.
const Quiet = 10 * time.Millisecond

// behindWait is how long the loop waits for messages the stream said it
// held before it takes them to be gone (purged, or taken by another) and
// says it caught up: events of a burst wait for the rest of it only until
// the intake caught up, and a backlog must not look caught up because the
// server was slow to send its next part.
const behindWait = time.Second

// Run takes messages until ctx is done. It waits for room (at most
// room() messages in a batch; none while it is 0), and calls handle with
// each batch and whether the loop caught up with the stream: nothing more
// was pending when the batch ended, and the batch was small (a tenth of
// what the client pulls ahead, at most: a large one is a burst still
// arriving). Once no message came for Quiet, it calls handle with no
// message and caught up. Messages buffered but not handed over are handed
// back at the end.
func (c *Consumer) Run(ctx context.Context, room func() int, roomed <-chan struct{}, handle func(batch []*Message, caughtUp bool)) error {
	for ctx.Err() == nil {
		iter, err := c.cons.Messages(jetstream.PullMaxMessagesWithBytesLimit(c.Buffer, c.pullBytes()))
		if err != nil {
			c.log.Warn().Err(err).Msg("cannot consume; trying again")
			_ = ctxtime.Sleep(ctx, time.Second)
			continue
		}
		err = c.loop(ctx, iter, room, roomed, handle)
		handBack(iter)
		if err != nil && ctx.Err() == nil {
			// The iterator closed under us (the connection went away):
			// take a breath before binding again.
			c.log.Warn().Err(err).Msg("consumer stopped; binding again")
			_ = ctxtime.Sleep(ctx, time.Second)
		}
	}
	return nil
}

func (c *Consumer) loop(ctx context.Context, iter jetstream.MessagesContext, room func() int, roomed <-chan struct{}, handle func([]*Message, bool)) error {
	// active: a batch came, and the loop has not said it caught up since.
	// behind: the last message of that batch said the stream held more,
	// which a loaded server may take longer than Quiet to send.
	active, behind := false, false
	for {
		c.beat.Now()
		n := room()
		if n <= 0 {
			// Asking again is what lets the handler make room.
			select {
			case <-roomed:
			case <-ctx.Done():
				return nil
			case <-time.After(noRoomPoll):
			}
			continue
		}
		// Wait for a first message in slices, so that an idle loop still
		// shows it is alive; after a batch, first for Quiet.
		wait := idleBeat
		switch {
		case behind:
			wait = behindWait
		case active:
			wait = Quiet
		}
		waitCtx, cancel := context.WithTimeout(ctx, wait)
		first, err := iter.Next(jetstream.NextContext(waitCtx))
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			if active {
				active, behind = false, false
				handle(nil, true)
			}
			continue
		case err != nil:
			return err
		}
		active = true
		batch := []*Message{c.message(first)}
		pending := streamPending(first)
		for len(batch) < n {
			m, err := iter.Next(jetstream.NextMaxWait(atHand))
			if err != nil {
				break
			}
			batch, pending = append(batch, c.message(m)), streamPending(m)
		}
		behind = pending > 0
		handle(batch, pending == 0 && len(batch) < n && len(batch) <= max(c.Buffer/10, 1))
	}
}

// message keeps what the pipeline needs of m.
func (c *Consumer) message(m jetstream.Msg) *Message {
	out := &Message{Subject: m.Subject(), Data: m.Data(), Delivered: 1, reply: m.Reply(), nc: c.nc}
	if md, err := m.Metadata(); err == nil {
		out.Seq, out.Delivered = md.Sequence.Stream, int(md.NumDelivered)
	}
	return out
}

// streamPending is how many messages the stream still held for the
// consumer when m was delivered.
func streamPending(m jetstream.Msg) uint64 {
	md, err := m.Metadata()
	if err != nil {
		return 0
	}
	return md.NumPending
}

// handBack stops pulling and returns the messages that were delivered but
// not handed over, so that the next leader (or the next start) takes them
// at once instead of after AckWait.
func handBack(iter jetstream.MessagesContext) {
	iter.Drain()
	for {
		m, err := iter.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = m.Nak()
	}
}

// Info reads the consumer's state.
func (c *Consumer) Info(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	return c.cons.Info(ctx)
}
