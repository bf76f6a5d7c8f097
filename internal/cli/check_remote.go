package cli

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
)

// checkNATS connects as the worker would, checks the server and
// JetStream, and says which of the worker's objects exist.
func checkNATS(ctx context.Context, r *checkReport, cfg config.Config, timeout time.Duration) {
	nc, err := natsconn.Connect(cfg, nats.Name("chathub-operator-worker-check"), nats.Timeout(timeout))
	if err != nil {
		r.add("nats", statusProblem, "%v; %s", err, natsHint(err))
		return
	}
	defer nc.Close()
	if err := broker.CheckServer(nc.ConnectedServerVersion()); err != nil {
		r.add("nats", statusProblem, "%v", err)
		return
	}
	r.add("nats", statusOK, "connected to %s, server %s", nc.ConnectedUrlRedacted(), nc.ConnectedServerVersion())
	js, err := jetstream.New(nc)
	if err != nil {
		r.add("jetstream", statusProblem, "cannot use JetStream: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch _, err := js.AccountInfo(ctx); {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		r.add("jetstream", statusProblem, "JetStream is not enabled on the server: run nats-server with -js (or a jetstream block in its configuration)")
		return
	case errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		r.add("jetstream", statusProblem, "JetStream is not enabled for this account: the NATS operator must enable it for the worker's user")
		return
	case err != nil:
		r.add("jetstream", statusProblem, "cannot reach JetStream: %v", err)
		return
	}
	if cfg.JSReplicas > 1 && nc.ConnectedClusterName() == "" {
		// The worker could not create its streams: say it now.
		r.add("jetstream", statusProblem, "JS_REPLICAS=%d, but the NATS server is not part of a cluster: set JS_REPLICAS=1, "+
			"or run a cluster of at least %d servers", cfg.JSReplicas, cfg.JSReplicas)
		return
	}
	r.add("jetstream", statusOK, "enabled")
	eventsExist := checkStream(ctx, r, js, cfg.EventsStream, ", or the HR system creates it with subjects hr.events.>")
	for _, name := range []string{cfg.ResultsStream, cfg.AlertsStream, cfg.SchedulesStream} {
		checkStream(ctx, r, js, name, "")
	}
	check := "consumer " + cfg.ConsumerName
	if !eventsExist {
		r.add(check, statusMissing, "the worker creates it on %s at its first start", cfg.EventsStream)
	} else if c, err := js.Consumer(ctx, cfg.EventsStream, cfg.ConsumerName); errors.Is(err, jetstream.ErrConsumerNotFound) {
		r.add(check, statusMissing, "not on %s yet: the worker creates it at its first start", cfg.EventsStream)
	} else if err != nil {
		r.add(check, statusProblem, "cannot look it up on %s: %v", cfg.EventsStream, err)
	} else {
		r.add(check, statusOK, "exists on %s: %s not yet taken in", cfg.EventsStream, Count(int(c.CachedInfo().NumPending), "event"))
	}
	check = "bucket " + cfg.KVBucket
	switch _, err := js.KeyValue(ctx, cfg.KVBucket); {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		r.add(check, statusMissing, "does not exist yet: the worker creates it at its first start")
	case err != nil:
		r.add(check, statusProblem, "cannot look it up: %v", err)
	default:
		r.add(check, statusOK, "exists")
	}
}

// checkStream says whether a stream exists, and how many messages it holds.
func checkStream(ctx context.Context, r *checkReport, js jetstream.JetStream, name, creator string) bool {
	check := "stream " + name
	s, err := js.Stream(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		r.add(check, statusMissing, "does not exist yet: the worker creates it at its first start%s", creator)
		return false
	case err != nil:
		r.add(check, statusProblem, "cannot look it up: %v", err)
		return false
	}
	r.add(check, statusOK, "exists: %s", Count(int(s.CachedInfo().State.Msgs), "message"))
	return true
}

// natsHint says what to look at when the connection failed.
func natsHint(err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "authorization") || strings.Contains(msg, "authentication"):
		return "check the credentials (NATS_CREDS, NATS_NKEY, NATS_CONTEXT, or a user in NATS_URL)"
	case strings.Contains(msg, "tls") || strings.Contains(msg, "x509") || strings.Contains(msg, "certificate"):
		return "check TLS (NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY, a tls:// URL)"
	}
	return "is NATS_URL right, and is the server up and reachable from here?"
}

// checkChatHub asks ChatHub once whether it accepts the token.
func checkChatHub(ctx context.Context, r *checkReport, cfg config.Config, timeout time.Duration) {
	status := 0
	hub, err := hubClient(cfg, chathub.WithRateLimit(0), chathub.WithTimeout(min(cfg.ChatHubTimeout, timeout)),
		chathub.WithCallObserver(func(_ string, s int, _ time.Duration) { status = s }))
	if err != nil {
		r.add("chathub", statusProblem, "%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// CheckToken takes any answer but 401 for a yes; the status it got
	// tells a wrong base URL (404, 403) or an unavailable ChatHub apart.
	err = hub.CheckToken(ctx, 0)
	at := hub.BaseURL()
	switch {
	case errors.Is(err, chathub.ErrMisconfigured) || status == http.StatusNotFound || status == http.StatusForbidden:
		r.add("chathub", statusProblem, "%s answers HTTP %d on the operator API: CHATHUB_BASE_URL is not the API's base URL, or a proxy is in the way", at, status)
	case errors.Is(err, chathub.ErrUnauthorized):
		r.add("chathub", statusProblem, "%s refuses the token (HTTP 401): check CHATHUB_TOKEN or CHATHUB_TOKEN_FILE", at)
	case err != nil:
		r.add("chathub", statusProblem, "no answer from %s; is CHATHUB_BASE_URL right, and is ChatHub reachable from here? (%v)", at, err)
	case status == http.StatusTooManyRequests || status >= 500:
		r.add("chathub", statusProblem, "%s answers HTTP %d, so whether it accepts the token is unknown: try again later", at, status)
	default:
		r.add("chathub", statusOK, "%s accepts the token", at)
	}
}
