// Package embedded runs a NATS server with JetStream inside the process, on
// loopback, for the demo and for tests.
package embedded

import (
	"cmp"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options for Start.
type Options struct {
	// StoreDir keeps JetStream's files; restarting on the same directory
	// keeps the streams.
	StoreDir string
	// Port is the client port; 0 picks a free one.
	Port int
	// Name names the server; required in a cluster.
	Name string
	// Cluster, when set, joins a cluster: its name, this server's route
	// port and every member's route URL.
	Cluster *Cluster
	// MaxStore bounds JetStream's files (0: 1 GiB, plenty for tests and
	// the demo).
	MaxStore int64
}

// Cluster is a server's place in a cluster of embedded servers.
type Cluster struct {
	Name   string
	Port   int
	Routes []string
}

// Start runs a JetStream-enabled server on 127.0.0.1 and waits until it
// takes connections.
func Start(o Options) (*server.Server, error) {
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:         o.Name,
		Host:               "127.0.0.1",
		Port:               port,
		JetStream:          true,
		StoreDir:           o.StoreDir,
		NoSigs:             true,
		NoLog:              true,
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  cmp.Or(o.MaxStore, 1<<30),
	}
	if c := o.Cluster; c != nil {
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: "127.0.0.1", Port: c.Port}
		opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded NATS server did not start within 10s")
	}
	return ns, nil
}
