package redistest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// serverConfig is the redis.conf of a server listening on port.
func (s *Server) serverConfig(port int) string {
	o := s.opts
	var c confWriter
	c.listen(port, o.TLS)
	c.common(s.dir)
	c.line("save", "")
	// A replica's full sync starts at once (Redis 7 waits 5 s for more replicas by default).
	c.line("repl-diskless-sync-delay", "0")
	if o.AppendOnly {
		c.line("appendonly", "yes")
		c.line("appendfsync", "always")
	} else {
		c.line("appendonly", "no")
	}
	if o.Password != "" {
		c.line("requirepass", o.Password)
	}
	masterPass := o.Password // a demoted primary (after a failover) replicates with its own password
	if o.ReplicaOf != nil {
		masterPass = o.ReplicaOf.opts.Password
		c.line("replicaof", "127.0.0.1", strconv.Itoa(o.ReplicaOf.port))
	}
	if masterPass != "" {
		c.line("masterauth", masterPass)
	}
	if o.ACLUser != "" {
		c.line("user", o.ACLUser, "on", ">"+o.ACLPass, "~*", "&*", "+@all")
	}
	if o.TLS || (o.ReplicaOf != nil && o.ReplicaOf.opts.TLS) {
		c.tls(s.dir)
	}
	c.raw(o.Config)
	return c.String()
}

// confWriter builds a redis.conf, quoting every argument.
type confWriter struct{ bytes.Buffer }

func (c *confWriter) line(directive string, args ...string) {
	c.WriteString(directive)
	for _, a := range args {
		c.WriteByte(' ')
		c.WriteString(quote(a))
	}
	c.WriteByte('\n')
}

// listen makes the process listen on 127.0.0.1:port, in TLS only when tls is set.
func (c *confWriter) listen(port int, tls bool) {
	c.line("bind", "127.0.0.1")
	if tls {
		c.line("port", "0")
		c.line("tls-port", strconv.Itoa(port))
	} else {
		c.line("port", strconv.Itoa(port))
	}
}

func (c *confWriter) raw(lines []string) {
	for _, l := range lines {
		c.WriteString(l)
		c.WriteByte('\n')
	}
}

func (c *confWriter) common(dir string) {
	c.line("dir", dir)
	c.line("logfile", filepath.Join(dir, "redis.log"))
	c.line("daemonize", "no")
	c.line("protected-mode", "no")
	c.line("loglevel", "notice")
}

func (c *confWriter) tls(dir string) {
	c.line("tls-cert-file", filepath.Join(dir, "server.crt"))
	c.line("tls-key-file", filepath.Join(dir, "server.key"))
	c.line("tls-ca-cert-file", filepath.Join(dir, "ca.crt"))
	c.line("tls-auth-clients", "no")
	c.line("tls-replication", "yes")
}

// quote is a redis.conf argument: double-quoted, with backslash escapes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch < 0x20 || ch >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", ch)
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}
