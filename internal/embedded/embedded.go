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
	// ConfigFile, when set, is a nats-server configuration file whose
	// accounts, users and permissions the server takes; where it listens
	// and stores is still set by the fields above.
	ConfigFile string
	// Logger, when set, receives the server's log: a test watches it for
	// permission violations.
	Logger server.Logger
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
	opts := &server.Options{}
	if o.ConfigFile != "" {
		var err error
		if opts, err = server.ProcessConfigFile(o.ConfigFile); err != nil {
			return nil, err
		}
		// Only the client port listens: no monitoring port.
		opts.HTTPHost, opts.HTTPPort = "", 0
	}
	opts.ServerName, opts.Host, opts.Port = o.Name, "127.0.0.1", port
	opts.JetStream, opts.StoreDir, opts.NoSigs, opts.NoLog = true, o.StoreDir, true, true
	opts.JetStreamMaxMemory, opts.JetStreamMaxStore = 256<<20, cmp.Or(o.MaxStore, 1<<30)
	if c := o.Cluster; c != nil {
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: "127.0.0.1", Port: c.Port}
		opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	if o.Logger != nil {
		ns.SetLoggerV2(o.Logger, false, false, false)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded NATS server did not start within 10s")
	}
	return ns, nil
}
