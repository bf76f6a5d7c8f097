package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// natsContext is the part of a nats CLI context (NATS ADR-21) the worker
// reads: $XDG_CONFIG_HOME/nats/context/NAME.json, ~/.config by default.
type natsContext struct {
	URL      string `json:"url"`
	User     string `json:"user"`
	Password string `json:"password"`
	Token    string `json:"token"`
	Creds    string `json:"creds"`
	NKey     string `json:"nkey"`
	Cert     string `json:"cert"`
	Key      string `json:"key"`
	CA       string `json:"ca"`
}

// resolveContext fills the NATS settings that no variable set from the
// context NATS_CONTEXT names: a name, looked up where the nats CLI keeps
// contexts, or a path.
func (c *Config) resolveContext(getenv func(string) string) error {
	if c.NATSContext == "" {
		return nil
	}
	path := c.NATSContext
	if filepath.Base(path) == path {
		dir := getenv("XDG_CONFIG_HOME")
		if dir == "" {
			home := getenv("HOME")
			if home == "" {
				return errors.New("NATS_CONTEXT: neither XDG_CONFIG_HOME nor HOME is set to find the context in; give its path")
			}
			dir = filepath.Join(home, ".config")
		}
		path = filepath.Join(dir, "nats", "context", c.NATSContext+".json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("NATS_CONTEXT: cannot read the context %q at %s: %v", c.NATSContext, path, errors.Unwrap(err))
	}
	var nc natsContext
	if err := json.Unmarshal(raw, &nc); err != nil {
		return fmt.Errorf("NATS_CONTEXT: %s is not a nats context (JSON): %v", path, err)
	}
	for _, f := range []struct {
		dst *string
		src string
	}{{&c.NATSURL, nc.URL}, {&c.NATSCreds, nc.Creds}, {&c.NATSNKey, nc.NKey},
		{&c.NATSTLSCA, nc.CA}, {&c.NATSTLSCert, nc.Cert}, {&c.NATSTLSKey, nc.Key}, {&c.NATSUser, nc.User}} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	c.NATSPassword, c.NATSToken = Secret(nc.Password), Secret(nc.Token)
	return nil
}
