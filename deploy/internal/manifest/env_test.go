package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
)

func TestCheckEnv(t *testing.T) {
	t.Parallel()
	base := map[string]string{"NATS_URL": "nats://nats:4222", "CHATHUB_BASE_URL": "https://chathub.example", "CHATHUB_TOKEN_FILE": "/s/token"}
	for _, tc := range []struct {
		name string
		add  map[string]string
		want string
	}{
		{"good", nil, ""},
		{"good with NATS files", map[string]string{"NATS_CREDS": "/n/nats.creds", "NATS_TLS_CA": "/t/ca.crt"}, ""},
		{"unknown", map[string]string{"BATCH_MAXWAIT": "1s"}, "BATCH_MAXWAIT, which the worker does not read"},
		{"plain token", map[string]string{"CHATHUB_TOKEN": "t"}, "plain env"},
		{"no NATS_URL", map[string]string{"NATS_URL": ""}, "do not set NATS_URL"},
		{"creds and nkey", map[string]string{"NATS_CREDS": "/n/nats.creds", "NATS_NKEY": "/n/nkey.seed"}, "refuses"},
		{"certificate without key", map[string]string{"NATS_TLS_CERT": "/t/tls.crt"}, "refuses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := map[string]string{}
			for k, v := range base {
				set[k] = v
			}
			for k, v := range tc.add {
				set[k] = v
			}
			errs := manifest.CheckEnv(set, t.TempDir())
			if got := fmt.Sprint(errs); tc.want == "" && len(errs) > 0 || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("CheckEnv: %v, want %q", errs, tc.want)
			}
		})
	}
}
