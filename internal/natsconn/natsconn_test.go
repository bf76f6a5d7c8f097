package natsconn_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs a NATS server with opts on loopback until the test ends.
func serve(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.NoLog, opts.NoSigs = "127.0.0.1", true, true
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// parse reads a configuration that needs NATS only.
func parse(t *testing.T, environ map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Parse(environ, config.Needs{NATS: true})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all PEM, into dir.
func pki(t *testing.T, dir string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, kind string, der []byte) {
		var buf bytes.Buffer
		_ = pem.Encode(&buf, &pem.Block{Type: kind, Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, name := range []string{"server", "client"} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		write(name+".pem", "CERTIFICATE", der)
		write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
	}
}

// TestTLSWithClientCertificate: a server that verifies clients takes the
// worker with NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY, and refuses it
// without the client certificate.
func TestTLSWithClientCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pki(t, dir)
	tlsConfig, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: filepath.Join(dir, "server.pem"),
		KeyFile: filepath.Join(dir, "server-key.pem"), CaFile: filepath.Join(dir, "ca.pem"), Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	ns := serve(t, &server.Options{TLS: true, TLSVerify: true, TLSConfig: tlsConfig, TLSTimeout: 5})
	url := fmt.Sprintf("tls://127.0.0.1:%d", ns.Addr().(*net.TCPAddr).Port)
	nc, err := natsconn.Connect(parse(t, map[string]string{"NATS_URL": url, "NATS_TLS_CA": filepath.Join(dir, "ca.pem"),
		"NATS_TLS_CERT": filepath.Join(dir, "client.pem"), "NATS_TLS_KEY": filepath.Join(dir, "client-key.pem")}))
	if err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("the connection is not TLS")
	}
	nc.Close()
	if nc, err := natsconn.Connect(parse(t, map[string]string{"NATS_URL": url, "NATS_TLS_CA": filepath.Join(dir, "ca.pem")})); err == nil {
		nc.Close()
		t.Error("connected without the client certificate the server requires")
	}
	// Not trusting the server's CA is refused at once, not retried.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if nc, err := natsconn.ConnectPatiently(ctx, parse(t, map[string]string{"NATS_URL": url}), zerolog.Nop()); err == nil {
		nc.Close()
		t.Error("connected without trusting the server's certificate")
	} else if ctx.Err() != nil {
		t.Errorf("an untrusted certificate was retried until the deadline: %v", err)
	}
}

// TestNKeyAndContext: a server that requires an NKey takes the seed from
// NATS_NKEY, and from a nats CLI context named by NATS_CONTEXT; a bad seed
// file is an error that shows no seed.
func TestNKeyAndContext(t *testing.T) {
	t.Parallel()
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "worker.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	ns := serve(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	url := ns.ClientURL()

	nc, err := natsconn.Connect(parse(t, map[string]string{"NATS_URL": url, "NATS_NKEY": seedFile}))
	if err != nil {
		t.Fatalf("NATS_NKEY: %v", err)
	}
	nc.Close()
	if nc, err := natsconn.Connect(parse(t, map[string]string{"NATS_URL": url})); err == nil {
		nc.Close()
		t.Error("connected without the NKey the server requires")
	}

	// A context by name, under XDG_CONFIG_HOME, gives the URL and the seed.
	if err := os.MkdirAll(filepath.Join(dir, "nats", "context"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctxFile := fmt.Sprintf(`{"description": "test", "url": %q, "nkey": %q}`, url, seedFile)
	if err := os.WriteFile(filepath.Join(dir, "nats", "context", "hr.json"), []byte(ctxFile), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := parse(t, map[string]string{"NATS_CONTEXT": "hr", "XDG_CONFIG_HOME": dir})
	if cfg.NATSURL != url || cfg.NATSNKey != seedFile {
		t.Errorf("from the context: url %q, nkey %q", cfg.NATSURL, cfg.NATSNKey)
	}
	nc, err = natsconn.Connect(cfg)
	if err != nil {
		t.Fatalf("NATS_CONTEXT: %v", err)
	}
	nc.Close()
	if _, err := config.Parse(map[string]string{"NATS_CONTEXT": "nope", "HOME": dir}, config.Needs{NATS: true}); err == nil || !strings.Contains(err.Error(), `NATS_CONTEXT: cannot read the context "nope"`) {
		t.Errorf("a missing context: %v", err)
	}

	bad := filepath.Join(dir, "bad.nk")
	if err := os.WriteFile(bad, []byte("SUAM-not-a-seed-but-secret-looking"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = natsconn.Connect(parse(t, map[string]string{"NATS_URL": url, "NATS_NKEY": bad}))
	if err == nil || strings.Contains(err.Error(), "secret-looking") || strings.Contains(err.Error(), string(seed)) {
		t.Errorf("a bad seed file: %v", err)
	}
}

// TestWaitsForNATS: the worker's connect waits for a NATS that is not up
// yet, and a password in the URL never shows in its errors.
func TestWaitsForNATS(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logs testenv.SyncBuffer
	log := zerolog.New(&logs)
	cfg := parse(t, map[string]string{"NATS_URL": fmt.Sprintf("nats://worker:hunter2@127.0.0.1:%d", port)})
	done := make(chan error, 1)
	go func() {
		nc, err := natsconn.ConnectPatiently(t.Context(), cfg, log)
		if err == nil {
			nc.Close()
		}
		done <- err
	}()
	// The server comes up after the worker's first tries.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "NATS is not reachable yet") {
		if time.Now().After(deadline) {
			t.Fatal("no log line says NATS is not reachable yet")
		}
		select {
		case err := <-done:
			t.Fatalf("connect returned before NATS was up: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	serve(t, &server.Options{Port: port, Username: "worker", Password: "hunter2"})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("once NATS is up: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still not connected 20 s after NATS came up")
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the password shows in the logs:\n%s", logs.String())
	}
}
