package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// roleEnv makes the bench binary run as the worker child.
const roleEnv = "BENCH_ROLE"

// runWorker is the child: the worker, configured from the environment.
func runWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Parse(nil, config.Worker)
	if err != nil {
		return err
	}
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		// BENCH_CPUPROFILE=cpu.out profiles the worker child.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	w, err := app.New(ctx, cfg, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// child is a worker process.
type child struct {
	cmd *exec.Cmd
}

// startWorker runs the worker as a child process against w.
func startWorker(w *world, extra ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"=worker",
		"NATS_URL="+w.ns.ClientURL(), "CHATHUB_BASE_URL="+w.simURL, "CHATHUB_TOKEN="+token,
		"CHATHUB_RATE_LIMIT=0", "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &child{cmd: cmd}, nil
}

// startWithResults starts a worker and follows its results.
func startWithResults(ctx context.Context, w *world) (*child, *collector, error) {
	c, err := startWorker(w)
	if err != nil {
		return nil, nil, err
	}
	col, err := w.collect(ctx)
	if err != nil {
		_ = c.stop()
		return nil, nil, err
	}
	return c, col, nil
}

// peakRSS is the child's high-water resident set, from /proc.
func (c *child) peakRSS() uint64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// stop sends SIGTERM and waits.
func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	return c.cmd.Wait()
}

type workerFigures struct {
	rate, pace         float64
	syncCalls, minSync int
	peakRSS            uint64
	p50, p99           time.Duration
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// benchWorkerHires: a backlog of n hires over 4 organizations, drained
// from the worker's start (as the ceilings drain theirs); then latency
// under a steady load of a quarter of that throughput for two seconds.
func benchWorkerHires(ctx context.Context, n int) (workerFigures, error) {
	var f workerFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	events, ids := hires(n, "h", 0)
	perOrg := map[int]int{}
	for _, e := range events {
		perOrg[e.org]++
	}
	for _, k := range perOrg {
		f.minSync += (k + 99) / 100
	}
	if err := w.publishAll(ctx, events, ids, nil); err != nil {
		return f, err
	}
	start := time.Now()
	c, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer c.stop()
	defer col.stop()
	if err := col.wait(ctx, n, 5*time.Minute); err != nil {
		return f, err
	}
	f.rate = float64(n) / col.last().Sub(start).Seconds()
	f.syncCalls = w.sim.Counters().Calls["synchronize"]
	f.peakRSS = c.peakRSS()

	// Steady load: events published at a fixed pace, each timed.
	pace := max(f.rate/4, 100)
	load := int(2 * pace)
	more, moreIDs := hires(load, "p", n)
	var sent sync.Map
	tick := time.NewTicker(time.Duration(float64(time.Second) / pace))
	defer tick.Stop()
	for i := range more {
		<-tick.C
		if err := w.publishAll(ctx, more[i:i+1], moreIDs[i:i+1], &sent); err != nil {
			return f, err
		}
	}
	if err := col.wait(ctx, n+load, time.Minute); err != nil {
		return f, err
	}
	f.pace = pace
	f.p50, f.p99 = percentiles(col.latencies(&sent))
	return f, nil
}

// hires makes n hire events over 4 organizations, ids prefixed, employees
// numbered from first.
func hires(n int, prefix string, first int) ([]event, []string) {
	events := make([]event, n)
	ids := make([]string, n)
	for i := range events {
		k := first + i
		events[i] = event{id: fmt.Sprint(prefix, k), kind: "hired", employee: fmt.Sprint("E", k), name: fmt.Sprint("Person ", k), org: 1 + k%4, at: t0}
		ids[i] = events[i].id
	}
	return events, ids
}

type mixedFigures struct {
	rate            float64
	events          int
	calls, minCalls int
	peakRSS         uint64
}

// benchMixed: life stories of n/4 employees, shuffled, 5% published twice.
func benchMixed(ctx context.Context, n int) (mixedFigures, error) {
	var f mixedFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	rng := rand.New(rand.NewPCG(5, 5))
	kinds := []string{"hired", "leave_started", "leave_ended", "terminated"}
	var events []event
	final := map[string]string{}
	org := map[string]int{}
	for i := 0; len(events) < n; i++ {
		emp := fmt.Sprint("E", i)
		org[emp] = 1 + i%4
		state, at := "none", t0
		for j := range 1 + rng.IntN(6) {
			kind := kinds[rng.IntN(4)]
			if j == 0 {
				kind = "hired"
			}
			at = at.Add(time.Duration(1+rng.IntN(3)) * time.Hour)
			events = append(events, event{id: fmt.Sprintf("m%d-%d", i, j), kind: kind, employee: emp, name: "Person " + emp, org: org[emp], at: at})
			switch {
			case kind == "hired":
				state = "active"
			case state == "none" || state == "terminated":
			case kind == "leave_started":
				state = "leave"
			case kind == "leave_ended":
				state = "active"
			default:
				state = "terminated"
			}
		}
		final[emp] = state
	}
	// The lower bound: one synchronize per 100 employees who end with an
	// operator, per organization, and one status call per employee on leave.
	needOp := map[int]int{}
	for emp, s := range final {
		if s == "active" || s == "leave" {
			needOp[org[emp]]++
		}
		if s == "leave" {
			f.minCalls++
		}
	}
	for _, k := range needOp {
		f.minCalls += (k + 99) / 100
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	var pub []event
	var ids []string
	for i, e := range events {
		pub, ids = append(pub, e), append(ids, e.id)
		if i%20 == 0 {
			pub, ids = append(pub, e), append(ids, e.id+"#dup")
		}
	}
	f.events = len(pub)
	c, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer c.stop()
	defer col.stop()
	start := time.Now()
	if err := w.publishAll(ctx, pub, ids, nil); err != nil {
		return f, err
	}
	if err := col.wait(ctx, len(events), 5*time.Minute); err != nil {
		return f, err
	}
	f.rate = float64(len(pub)) / col.last().Sub(start).Seconds()
	for _, k := range w.sim.Counters().Calls {
		f.calls += k
	}
	f.peakRSS = c.peakRSS()
	return f, nil
}

type drainFigures struct {
	took, min        time.Duration
	calls, throttled int
	maxPerSecond     int
}

// benchDrain: ChatHub takes 20 calls a second and answers 429 beyond; a
// backlog of hires (one organization) and leave starts (for employees
// hired before) is drained.
func benchDrain(ctx context.Context, hires, changes, replicas int) (drainFigures, error) {
	var f drainFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	// Employees to change, hired before the backlog.
	var before []event
	var ids []string
	for i := range changes {
		e := event{id: fmt.Sprint("b", i), kind: "hired", employee: fmt.Sprint("E", i), name: fmt.Sprint("Person ", i), org: 1, at: t0}
		before, ids = append(before, e), append(ids, e.id)
	}
	setup, err := startWorker(w)
	if err != nil {
		return f, err
	}
	col, err := w.collect(ctx)
	if err != nil {
		return f, err
	}
	defer col.stop()
	if err := w.publishAll(ctx, before, ids, nil); err != nil {
		return f, err
	}
	if err := col.wait(ctx, changes, time.Minute); err != nil {
		return f, err
	}
	if err := setup.stop(); err != nil {
		return f, err
	}
	var backlog []event
	ids = nil
	for i := range hires {
		e := event{id: fmt.Sprint("n", i), kind: "hired", employee: fmt.Sprint("N", i), name: fmt.Sprint("Newcomer ", i), org: 2, at: t0}
		backlog, ids = append(backlog, e), append(ids, e.id)
	}
	for i := range changes {
		e := event{id: fmt.Sprint("l", i), kind: "leave_started", employee: fmt.Sprint("E", i), org: 1, at: t0.Add(time.Hour)}
		backlog, ids = append(backlog, e), append(ids, e.id)
	}
	if err := w.publishAll(ctx, backlog, ids, nil); err != nil {
		return f, err
	}
	callsBefore := w.sim.Counters()
	arrivalsBefore := len(w.sim.Arrivals())
	w.sim.SetFaults(chathubsim.Faults{RateLimit: 20, RateLimitSlack: 20 * time.Millisecond})
	start := time.Now()
	for range replicas {
		c, err := startWorker(w, "CHATHUB_RATE_LIMIT=20")
		if err != nil {
			return f, err
		}
		defer c.stop()
	}
	if err := col.wait(ctx, changes+len(backlog), 5*time.Minute); err != nil {
		return f, err
	}
	f.took = col.last().Sub(start)
	after := w.sim.Counters()
	for k, v := range after.Calls {
		f.calls += v - callsBefore.Calls[k]
	}
	f.throttled = after.Throttled - callsBefore.Throttled
	f.maxPerSecond = chathubsim.MaxInWindow(w.sim.Arrivals()[arrivalsBefore:], time.Second)
	// The fewest calls: one list and one synchronize per 100 hires, one
	// status call per change.
	minCalls := 1 + (hires+99)/100 + changes
	f.min = time.Duration(minCalls) * time.Second / 20
	return f, nil
}

type idleFigures struct{ p50, p99 time.Duration }

// benchIdle: single events, each published once the previous result came.
func benchIdle(ctx context.Context, n int) (idleFigures, error) {
	var f idleFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	c, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer c.stop()
	defer col.stop()
	var sent sync.Map
	for i := range n {
		e := event{id: fmt.Sprint("i", i), kind: "hired", employee: fmt.Sprint("E", i), name: fmt.Sprint("Person ", i), org: 1 + i%4, at: t0}
		if err := w.publishAll(ctx, []event{e}, []string{e.id}, &sent); err != nil {
			return f, err
		}
		if err := col.wait(ctx, i+1, 30*time.Second); err != nil {
			return f, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.p50, f.p99 = percentiles(col.latencies(&sent))
	return f, nil
}
