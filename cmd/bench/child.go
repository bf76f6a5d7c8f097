package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
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
	if path := os.Getenv("BENCH_HEAPPROFILE"); path != "" {
		// BENCH_HEAPPROFILE=heap.out keeps a heap profile of the worker
		// child taken when its heap was largest.
		go peakHeap(ctx, path)
	}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	app.LimitMemory(log)
	w, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// peakHeap writes a heap profile to path each time the heap in use grows
// past its largest so far, until ctx is done.
func peakHeap(ctx context.Context, path string) {
	var peak uint64
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= peak*11/10 {
			continue
		}
		peak = ms.HeapInuse
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
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
		"CHATHUB_RATE_LIMIT=0", "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn",
		// The rows measure throughput and latency; the guard would hold
		// row 4's and row 5's deactivations.
		"GUARD_THRESHOLD=0")
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

// startWorld makes a world, starts a worker in it and follows its
// results; done stops all three.
func startWorld(ctx context.Context) (w *world, c *child, col *collector, done func(), err error) {
	if w, err = newWorld(ctx); err != nil {
		return nil, nil, nil, nil, err
	}
	if c, col, err = startWithResults(ctx, w); err != nil {
		w.close()
		return nil, nil, nil, nil, err
	}
	return w, c, col, func() {
		col.stop()
		_ = c.stop()
		w.close()
	}, nil
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
