package manifest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// KnownVars are the variables the worker's configuration reads, from its
// env tags, so that the list cannot fall behind the worker.
func KnownVars() map[string]bool {
	known := map[string]bool{}
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("env"); name != "" && name != "-" {
			known[name] = true
		}
	}
	return known
}

// WorkerEnv collects what the worker's container gets: the data of the
// ConfigMaps it takes whole (envFrom), then its env, which wins. A
// ConfigMap it names that the manifests do not hold, or a Secret taken
// whole, is an error: the checks could not see what it sets.
func WorkerEnv(docs []Doc) (map[string]string, error) {
	_, c, err := Worker(docs)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			i := slices.IndexFunc(docs, func(d Doc) bool {
				return d.Kind == "ConfigMap" && d.Metadata.Name == from.ConfigMapRef.Name
			})
			if i < 0 {
				return nil, fmt.Errorf("the worker takes its variables from ConfigMap %s, which the manifests do not hold", from.ConfigMapRef.Name)
			}
			for k, v := range docs[i].Data {
				set[k] = v
			}
		case from.SecretRef != nil:
			return nil, fmt.Errorf("the worker takes every key of Secret %s as a variable; mount it as files instead", from.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom.Kind != 0 {
			return nil, fmt.Errorf("%s comes from valueFrom; the worker's variables are plain values or files", e.Name)
		}
		set[e.Name] = e.Value
	}
	return set, nil
}

// CheckEnv checks the variables the manifests give the worker: each is one
// the worker reads, the required ones are set, the token is a file and
// never a plain value, and the worker's own validation accepts the whole.
// The files the variables name are made in dir (under their own paths) for
// that validation, which looks for them.
func CheckEnv(set map[string]string, dir string) []error {
	var errs []error
	known := KnownVars()
	for _, name := range slices.Sorted(maps.Keys(set)) {
		// The OpenTelemetry SDK reads the standard OTEL_* variables.
		if !known[name] && !strings.HasPrefix(name, "OTEL_") {
			errs = append(errs, fmt.Errorf("the manifests set %s, which the worker does not read", name))
		}
	}
	for _, required := range []string{"NATS_URL", "CHATHUB_BASE_URL", "CHATHUB_TOKEN_FILE"} {
		if set[required] == "" {
			errs = append(errs, fmt.Errorf("the manifests do not set %s, which the worker requires", required))
		}
	}
	if set["CHATHUB_TOKEN"] != "" {
		errs = append(errs, fmt.Errorf("the manifests put the token in plain env (CHATHUB_TOKEN); mount it from a Secret as CHATHUB_TOKEN_FILE"))
	}
	env := map[string]string{}
	for k, v := range set {
		env[k] = v
		if !slices.Contains(FileVars, k) || v == "" {
			continue
		}
		local := filepath.Join(dir, filepath.FromSlash(v))
		if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
			return append(errs, err)
		}
		if err := os.WriteFile(local, []byte("stand-in for "+k+"\n"), 0o600); err != nil {
			return append(errs, err)
		}
		env[k] = local
	}
	if _, err := config.Parse(env, config.Worker); err != nil {
		errs = append(errs, fmt.Errorf("the worker refuses the manifests' configuration: %s", strings.ReplaceAll(err.Error(), dir, "")))
	}
	return errs
}
