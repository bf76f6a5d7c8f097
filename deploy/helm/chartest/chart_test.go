package chartest_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
)

// chartDir is the chart under test.
const chartDir = "../chathub-operator-worker"

// kubeVersion is the cluster's version the chart is rendered for. The Helm
// library's default comes from its build information, which a test binary
// lacks (it says 1.20, older than the chart allows).
var kubeVersion = func() *common.KubeVersion {
	v, err := common.ParseKubeVersion("v1.33.0")
	if err != nil {
		panic(err)
	}
	return v
}()

// render runs helm template on the chart with vals over its defaults, as
// release name in namespace hr, and returns the manifest and the notes.
func render(t *testing.T, name string, vals map[string]any) (string, string, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = name
	install.Namespace = "hr"
	install.Replace = true
	install.KubeVersion = kubeVersion
	rel, err := install.Run(chrt, vals)
	if err != nil {
		return "", "", err
	}
	r, ok := rel.(*release.Release)
	if !ok {
		t.Fatalf("helm template returned a %T", rel)
	}
	return r.Manifest, r.Info.Notes, nil
}

// renderDocs renders the chart and decodes its objects, failing the test
// when helm template fails.
func renderDocs(t *testing.T, vals map[string]any) []manifest.Doc {
	t.Helper()
	out, _, err := render(t, "chathub-operator-worker", vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	docs, err := manifest.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// checkFiles checks the files the worker is pointed at (see
// manifest.CheckFiles).
func checkFiles(t *testing.T, docs []manifest.Doc, want map[string]string) {
	t.Helper()
	for _, err := range manifest.CheckFiles(docs, want) {
		t.Error(err)
	}
}

// checkWorker runs the checks the kustomize base passes too: the pod's
// settings, the selectors, and the worker's variables.
func checkWorker(t *testing.T, docs []manifest.Doc) {
	t.Helper()
	set, err := manifest.WorkerEnv(docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range manifest.CheckPod(docs, set) {
		t.Error(err)
	}
	for _, err := range manifest.CheckSelectors(docs) {
		t.Error(err)
	}
	for _, err := range manifest.CheckEnv(set, t.TempDir()) {
		t.Error(err)
	}
}

// TestLint runs helm lint, strict (warnings fail too), on the defaults and
// on values that turn every option on.
func TestLint(t *testing.T) {
	t.Parallel()
	for name, vals := range map[string]map[string]any{"defaults": nil, "everything on": everythingOn()} {
		lint := action.NewLint()
		lint.Strict = true
		lint.Namespace = "hr"
		lint.KubeVersion = kubeVersion
		res := lint.Run([]string{chartDir}, vals)
		for _, m := range res.Messages {
			t.Logf("%s: %s", name, m)
		}
		for _, err := range res.Errors {
			t.Errorf("%s: helm lint: %v", name, err)
		}
		if res.TotalChartsLinted != 1 {
			t.Errorf("%s: helm lint linted %d charts", name, res.TotalChartsLinted)
		}
	}
}

// everythingOn are values that enable every optional part of the chart.
func everythingOn() map[string]any {
	return map[string]any{
		"image": map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)},
		"token": map[string]any{"create": true, "value": "2f7c1e9a5b"},
		"nats": map[string]any{
			"creds":     map[string]any{"secretName": "nats-user"},
			"tlsCA":     map[string]any{"secretName": "nats-tls"},
			"tlsClient": map[string]any{"secretName": "nats-tls"},
		},
		"serviceMonitor": map[string]any{"enabled": true},
		"prometheusRule": map[string]any{"enabled": true},
	}
}

// TestDefaults renders the chart as installed with no values: the pod
// keeps the base's settings, its token comes from Secret chathub-token,
// which the pod's user can read and which the chart does not make.
func TestDefaults(t *testing.T) {
	t.Parallel()
	docs := renderDocs(t, nil)
	checkWorker(t, docs)
	checkFiles(t, docs, map[string]string{"CHATHUB_TOKEN_FILE": "Secret/chathub-token/token"})
	found, err := manifest.Placeholders(docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("the chart applies a placeholder by default: %s", f)
	}
	for _, d := range manifest.OfKind(docs, "Secret") {
		t.Errorf("the chart makes Secret %s by default; the token's Secret is the user's", d.Metadata.Name)
	}
	for _, kind := range []string{"Deployment", "ConfigMap", "Service", "PodDisruptionBudget"} {
		if len(manifest.OfKind(docs, kind)) != 1 {
			t.Errorf("the chart renders %d %s, want 1", len(manifest.OfKind(docs, kind)), kind)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		if len(manifest.OfKind(docs, kind)) != 0 {
			t.Errorf("the chart renders a %s by default, which needs the Prometheus Operator's CRDs", kind)
		}
	}
	_, c, err := manifest.Worker(docs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "registry.example.com/chathub-operator-worker:1.0.0"; c.Image != want {
		t.Errorf("image %s, want %s (the chart's appVersion)", c.Image, want)
	}
}

// TestHTTPAddr: the container's port, and so the probes', follow
// HTTP_ADDR.
func TestHTTPAddr(t *testing.T) {
	t.Parallel()
	docs := renderDocs(t, map[string]any{"config": map[string]any{"HTTP_ADDR": ":9090"}})
	checkWorker(t, docs)
}

// TestReleaseName: another release name changes the objects' names, and
// the selectors still find the pods.
func TestReleaseName(t *testing.T) {
	t.Parallel()
	out, _, err := render(t, "hr-sync", nil)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	dep, _, err := manifest.Worker(docs)
	if err != nil {
		t.Fatal(err)
	}
	if dep.Metadata.Name != "hr-sync-chathub-operator-worker" {
		t.Errorf("Deployment %s, want hr-sync-chathub-operator-worker", dep.Metadata.Name)
	}
	checkWorker(t, docs)
}

// TestNATSFiles sets each combination of NATS Secrets the worker accepts:
// each file comes from the Secret and key given, the pod's user can read
// it, and the worker's configuration validates.
func TestNATSFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		nats  map[string]any
		files map[string]string
	}{
		{"creds", map[string]any{"creds": map[string]any{"secretName": "nats-user"}},
			map[string]string{"NATS_CREDS": "Secret/nats-user/nats.creds"}},
		{"nkey with another key", map[string]any{"nkey": map[string]any{"secretName": "nats-user", "key": "seed"}},
			map[string]string{"NATS_NKEY": "Secret/nats-user/seed"}},
		{"tls CA", map[string]any{"tlsCA": map[string]any{"secretName": "nats-ca"}},
			map[string]string{"NATS_TLS_CA": "Secret/nats-ca/ca.crt"}},
		{"creds and mutual TLS", map[string]any{
			"creds":     map[string]any{"secretName": "nats-user"},
			"tlsCA":     map[string]any{"secretName": "nats-tls"},
			"tlsClient": map[string]any{"secretName": "nats-tls"},
		}, map[string]string{
			"NATS_CREDS":    "Secret/nats-user/nats.creds",
			"NATS_TLS_CA":   "Secret/nats-tls/ca.crt",
			"NATS_TLS_CERT": "Secret/nats-tls/tls.crt",
			"NATS_TLS_KEY":  "Secret/nats-tls/tls.key",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs := renderDocs(t, map[string]any{"nats": tc.nats})
			want := map[string]string{"CHATHUB_TOKEN_FILE": "Secret/chathub-token/token"}
			for k, v := range tc.files {
				want[k] = v
			}
			checkFiles(t, docs, want)
			checkWorker(t, docs)
			if len(manifest.OfKind(docs, "Secret")) != 0 {
				t.Error("the chart makes a NATS Secret; the user makes them")
			}
		})
	}
}

// TestTokenCreate: on request the chart makes the token's Secret, holding
// the value given, and mounts it.
func TestTokenCreate(t *testing.T) {
	t.Parallel()
	docs := renderDocs(t, map[string]any{"token": map[string]any{"create": true, "value": "2f7c1e9a5b\n", "secretName": "hr-token"}})
	checkWorker(t, docs)
	checkFiles(t, docs, map[string]string{"CHATHUB_TOKEN_FILE": "Secret/hr-token/token"})
	secrets := manifest.OfKind(docs, "Secret")
	if len(secrets) != 1 || secrets[0].Metadata.Name != "hr-token" {
		t.Fatalf("Secrets %v, want hr-token alone", secrets)
	}
	values, err := manifest.SecretValues(secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	if values["token"] != "2f7c1e9a5b" {
		t.Errorf("the Secret holds %q, want the token given, trimmed", values["token"])
	}
}

// TestRefused: values the worker could not run with fail at install, with
// a message that says what to change.
func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"token to create without a value", map[string]any{"token": map[string]any{"create": true}}, "token.value is required"},
		{"token in the ConfigMap", map[string]any{"config": map[string]any{"CHATHUB_TOKEN": "t"}}, "CHATHUB_TOKEN"},
		{"token file in the ConfigMap", map[string]any{"config": map[string]any{"CHATHUB_TOKEN_FILE": "/t"}}, "CHATHUB_TOKEN_FILE"},
		{"a variable the worker does not read", map[string]any{"config": map[string]any{"BATCH_MAXWAIT": "1s"}}, "BATCH_MAXWAIT"},
		{"a value the chart does not take", map[string]any{"tokn": map[string]any{"create": true}}, "tokn"},
		{"creds and nkey", map[string]any{"nats": map[string]any{
			"creds": map[string]any{"secretName": "a"}, "nkey": map[string]any{"secretName": "b"}}}, "set one"},
		{"a digest that is not one", map[string]any{"image": map[string]any{"digest": "latest"}}, "digest"},
		{"no NATS_URL", map[string]any{"config": map[string]any{"NATS_URL": nil}}, "NATS_URL"},
		{"HTTP_ADDR without a port", map[string]any{"config": map[string]any{"HTTP_ADDR": "localhost"}}, "HTTP_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := render(t, "chathub-operator-worker", tc.vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestDigest: a digest pins the image by content, in place of the tag.
func TestDigest(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("0f", 32)
	docs := renderDocs(t, map[string]any{"image": map[string]any{"repository": "registry.example.com/w", "tag": "1.2.3", "digest": digest}})
	_, c, err := manifest.Worker(docs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "registry.example.com/w@" + digest; c.Image != want {
		t.Errorf("image %s, want %s", c.Image, want)
	}
}

// TestConfigMatchesBase: the chart's default variables are the kustomize
// base's, so that the two ways of deploying run the same worker.
func TestConfigMatchesBase(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../k8s/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := manifest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	chart := manifest.OfKind(renderDocs(t, nil), "ConfigMap")
	if len(base) != 1 || len(chart) != 1 {
		t.Fatalf("%d ConfigMaps in the base, %d in the chart, want 1 each", len(base), len(chart))
	}
	if !reflect.DeepEqual(base[0].Data, chart[0].Data) {
		t.Errorf("the chart's variables differ from deploy/k8s/configmap.yaml:\nchart %v\nbase  %v", chart[0].Data, base[0].Data)
	}
}

// TestSchemaListsWorkerVariables: values.schema.json accepts in config
// every variable the worker reads but those the chart sets from Secrets,
// and no other, so a misspelled name fails at install.
func TestSchemaListsWorkerVariables(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Config struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"config"`
		} `yaml:"properties"`
	}
	// JSON is YAML.
	if err := yaml.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	want := manifest.KnownVars()
	delete(want, "CHATHUB_TOKEN")
	for _, v := range manifest.FileVars {
		delete(want, v)
	}
	got := schema.Properties.Config.Properties
	for v := range want {
		if _, ok := got[v]; !ok {
			t.Errorf("values.schema.json refuses config.%s, which the worker reads", v)
		}
	}
	for v := range got {
		if !want[v] {
			t.Errorf("values.schema.json accepts config.%s, which the worker does not read or the chart sets itself", v)
		}
	}
}

// TestMonitoring: the ServiceMonitor selects the chart's Service, and the
// PrometheusRule holds the rules of deploy/monitoring, which promtool
// checks and tests there.
func TestMonitoring(t *testing.T) {
	t.Parallel()
	out, _, err := render(t, "chathub-operator-worker", everythingOn())
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec map[string]any `yaml:"spec"`
	}
	objects := map[string]object{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o object
		if err := dec.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		objects[o.Kind] = o
	}
	sm, svc := objects["ServiceMonitor"], objects["Service"]
	var sel struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	}
	b, _ := yaml.Marshal(sm.Spec)
	if err := yaml.Unmarshal(b, &sel); err != nil {
		t.Fatal(err)
	}
	if len(sel.Selector.MatchLabels) == 0 {
		t.Error("the ServiceMonitor has no selector")
	}
	for k, v := range sel.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s; the Service is labelled %v", k, v, svc.Metadata.Labels)
		}
	}
	raw, err := os.ReadFile("../../monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var base object
	if err := yaml.Unmarshal(raw, &base); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(objects["PrometheusRule"].Spec, base.Spec) {
		t.Error("the chart's alert rules (files/alert-rules.yaml) differ from deploy/monitoring/prometheusrule.yaml")
	}
}

// TestNotes: without a token to create, the notes tell how to make the
// Secret the pods wait for.
func TestNotes(t *testing.T) {
	t.Parallel()
	_, notes, err := render(t, "chathub-operator-worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "kubectl -n hr create secret generic chathub-token"; !strings.Contains(notes, want) {
		t.Errorf("the notes lack %q:\n%s", want, notes)
	}
}

// TestObjectsAreValid decodes each object the chart renders, with every
// option on, into its Kubernetes type, refusing unknown fields: a
// misspelled field (readOnlyRootFileSystem) would otherwise be dropped by
// the API server without a word, and the setting lost.
func TestObjectsAreValid(t *testing.T) {
	t.Parallel()
	out, _, err := render(t, "chathub-operator-worker", everythingOn())
	if err != nil {
		t.Fatal(err)
	}
	docs := releaseutil.SplitManifests(out)
	kinds := map[string]bool{}
	for name, doc := range docs {
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var obj any
		switch head.Kind {
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "Service":
			obj = &corev1.Service{}
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		case "Secret":
			obj = &corev1.Secret{}
		case "PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "ServiceMonitor", "PrometheusRule":
			// The Prometheus Operator's types are not among Helm's
			// dependencies; TestMonitoring reads these two.
			continue
		default:
			t.Errorf("%s: a %s, which this test does not know", name, head.Kind)
			continue
		}
		// The API server's decoding: field names are case-sensitive
		// (encoding/json would take readOnlyRootFileSystem as the field).
		j, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", head.Kind, err)
		}
		strict, err := kjson.UnmarshalStrict(j, obj)
		if err != nil {
			t.Errorf("%s: %v", head.Kind, err)
		}
		for _, err := range strict {
			t.Errorf("%s: %v", head.Kind, err)
		}
		kinds[head.Kind] = true
	}
	if len(kinds) != 5 {
		t.Errorf("decoded %v, want the five kinds the chart renders", kinds)
	}
}
