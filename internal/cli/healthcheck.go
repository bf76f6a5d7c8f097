package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// Healthcheck asks a running worker's /healthz (or /readyz) and exits 0
// when it answers 200: a container healthcheck for an image without a
// shell or curl.
func Healthcheck(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "healthcheck [-ready] [-url URL]",
		Summary: "Asks the worker running beside it (HTTP_ADDR) whether it is alive, or with -ready whether it is ready,\n" +
			"and exits 0 if so, 1 otherwise: a container healthcheck that needs no shell.",
		Example: "worker healthcheck\nworker healthcheck -ready -url http://10.0.0.7:8080",
	}
	fs := spec.Flags(env)
	ready := fs.Bool("ready", false, "ask /readyz instead of /healthz")
	base := fs.String("url", "", "the worker's HTTP address (default: from HTTP_ADDR, on loopback)")
	if rest, err := spec.Parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError("unexpected argument %q", rest[0])
	}
	if *base == "" {
		cfg, err := loadConfig(env, config.Needs{})
		if err != nil {
			return err
		}
		_, port, err := net.SplitHostPort(cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
		}
		*base = "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *base+path, nil)
	if err != nil {
		return usageError("-url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", path, resp.Status)
	}
	fmt.Fprintln(env.Stdout, "ok")
	return nil
}
