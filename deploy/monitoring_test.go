package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// promtool finds promtool; CI_REQUIRE_PROMTOOL (set by .ci/run) makes its
// absence a failure rather than a skip.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is required (Debian's prometheus package) and not installed")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	return path
}

// ruleGroups writes the PrometheusRule's groups as a plain rule file into
// dir, beside the unit tests, and returns its text.
func ruleGroups(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile("monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &rule); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(&rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("monitoring/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestAlertRules: promtool checks the rules and runs their unit tests.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	bin := promtool(t)
	dir := t.TempDir()
	ruleGroups(t, dir)
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestMonitoringUsesRealMetrics: every metric name the alert rules and
// the dashboard use is one the worker registers.
func TestMonitoringUsesRealMetrics(t *testing.T) {
	t.Parallel()
	registered := metrics.New().Names()
	dash, err := os.ReadFile("monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	rules := ruleGroups(t, t.TempDir())
	name := regexp.MustCompile(`chathub_worker_[a-z_]+`)
	for file, text := range map[string]string{"prometheusrule.yaml": rules, "grafana-dashboard.json": string(dash)} {
		used := name.FindAllString(text, -1)
		if len(used) == 0 {
			t.Errorf("%s uses no metric", file)
		}
		for _, n := range used {
			base := n
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !slices.Contains(registered, n) && !slices.Contains(registered, base) {
				t.Errorf("%s uses %s, which the worker does not register", file, n)
			}
		}
	}
}

// TestMonitoringRenders: the monitoring kustomization renders, with the
// dashboard in a ConfigMap Grafana's sidecar picks up.
func TestMonitoringRenders(t *testing.T) {
	t.Parallel()
	out := kustomize(t, "monitoring")
	for _, want := range []string{"kind: PrometheusRule", "kind: ServiceMonitor", "grafana_dashboard: \"1\"", "chathub-operator-worker.json"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered monitoring lacks %q", want)
		}
	}
}
