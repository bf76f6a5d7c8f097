package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// readCompose decodes the compose file into v.
func readCompose(t *testing.T, v any) {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestComposeSetsOnlyKnownVariables(t *testing.T) {
	t.Parallel()
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Build       struct {
				Target string `yaml:"target"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	readCompose(t, &compose)
	known := knownVars()
	for name, svc := range compose.Services {
		if svc.Build.Target != "worker" {
			continue
		}
		for k := range svc.Environment {
			if !known[k] {
				t.Errorf("compose service %s sets %s, which the worker does not read", name, k)
			}
		}
		if svc.Environment["NATS_URL"] == "" {
			t.Errorf("compose service %s has no NATS_URL", name)
		}
	}
	w := compose.Services["worker"]
	if _, err := config.Parse(w.Environment, config.Worker); err != nil {
		t.Errorf("the compose worker's configuration is refused: %v", err)
	}
}

// TestComposeWaitsForHealth: NATS, the simulator and the worker have
// healthchecks, and each service waits for those it needs to be healthy,
// so the one-shot publisher never races the worker.
func TestComposeWaitsForHealth(t *testing.T) {
	t.Parallel()
	var compose struct {
		Services map[string]struct {
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	readCompose(t, &compose)
	for name, want := range map[string]string{"nats": "/healthz", "chathub-sim": "-healthcheck", "worker": "healthcheck"} {
		if test := compose.Services[name].Healthcheck.Test; !slices.Contains(test, want) && !strings.Contains(strings.Join(test, " "), want) {
			t.Errorf("%s: healthcheck %v, want it to use %s", name, test, want)
		}
	}
	for name, svc := range compose.Services {
		for dep, d := range svc.DependsOn {
			if d.Condition != "service_healthy" {
				t.Errorf("%s waits for %s to be %q, want service_healthy", name, dep, d.Condition)
			}
		}
	}
	if len(compose.Services["publish-examples"].DependsOn) == 0 {
		t.Error("publish-examples does not wait for the worker")
	}
}
