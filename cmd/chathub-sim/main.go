// Command chathub-sim serves the ChatHub operator API simulator over HTTP,
// with optional faults, for trying the worker without the real ChatHub.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "chathub-sim:", err)
	}
	os.Exit(exitCode(err))
}

// errUsage marks a command line the simulator cannot run.
var errUsage = errors.New("see 'chathub-sim -h'")

// exitCode is 0 for success and for help, 2 for a usage error, 1 otherwise.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

// run serves until ctx is done. Help goes to stdout and is flag.ErrHelp;
// a bad flag is one line, wrapping errUsage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chathub-sim", flag.ContinueOnError)
	// The flag package would print the help on a bad flag too, to stderr;
	// it is printed here, on -h only.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	addr := fs.String("addr", ":8090", "listen address")
	orgs := fs.String("orgs", "24,25", "known organization ids, comma-separated")
	var f chathubsim.Faults
	fs.DurationVar(&f.Latency, "latency", 0, "delay before every answer")
	fs.Float64Var(&f.ErrorRate, "error-rate", 0, "share of calls answered 503")
	fs.Float64Var(&f.ThrottleRate, "throttle-rate", 0, "share of calls answered 429")
	fs.DurationVar(&f.RetryAfter, "retry-after", time.Second, "Retry-After sent with injected 429s")
	fs.Float64Var(&f.SyncDropRate, "sync-drop-rate", 0, "share of synchronize calls applied and then left unanswered")
	fs.Float64Var(&f.StatusDropRate, "status-drop-rate", 0, "share of status calls applied and then left unanswered")
	fs.IntVar(&f.RateLimit, "rate-limit", 0, "answer 429 beyond this many calls a second (0: none)")
	healthcheck := fs.Bool("healthcheck", false, "ask the simulator at -addr for /healthz and exit 0 if it answers (a container healthcheck)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, "usage: chathub-sim [flags]\n\nServes the ChatHub operator API simulator, accepting the token in CHATHUB_TOKEN, with optional faults.\n\nflags:\n")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprint(stdout, "\nexample:\n  CHATHUB_TOKEN=sim-token chathub-sim -addr :8090 -orgs 24,25 -error-rate 0.1\n")
		return err
	} else if err != nil {
		return fmt.Errorf("%v; %w", err, errUsage)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; %w", fs.Arg(0), errUsage)
	}
	if *healthcheck {
		return probe(ctx, *addr)
	}
	token := os.Getenv("CHATHUB_TOKEN")
	if token == "" {
		return errors.New("CHATHUB_TOKEN must be set: the token the simulator accepts")
	}
	known := map[int]string{}
	for _, field := range strings.Split(*orgs, ",") {
		id, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || id <= 0 {
			return fmt.Errorf("-orgs: %q is not a positive integer", field)
		}
		known[id] = "Organization " + strconv.Itoa(id)
	}
	sim := chathubsim.New(token, known)
	sim.SetFaults(f)

	srv := &http.Server{Addr: *addr, Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stderr, "chathub-sim: listening on %s, organizations %s\n", *addr, *orgs)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// probe asks the simulator listening on addr for /healthz.
func probe(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return nil
}
