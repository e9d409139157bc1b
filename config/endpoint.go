package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// CheckEndpoint accepts an absolute https URL, or http on a loopback host (127.0.0.0/8, ::1,
// localhost): tokens and refresh tokens are never sent in the clear over a network.
func CheckEndpoint(flag, raw string) error { return CheckEndpointInsecure(flag, raw, false) }

// CheckEndpointInsecure is CheckEndpoint that, when allowHTTP is set (the user said
// --allow-insecure-http), also accepts plain http on any host: a lab identity provider without
// TLS, at the user's explicit risk.
func CheckEndpointInsecure(flag, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s %q: want an absolute https:// URL", flag, raw)
	}
	if u.Scheme == "http" && !allowHTTP && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%s %q: plain http is allowed only for loopback hosts; use https (or --allow-insecure-http)", flag, raw)
	}
	return nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckPrivateDir refuses a directory that group or others can write: a lock file or a
// credential there could be replaced or blocked by another user (a shared /tmp, say).
func CheckPrivateDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("directory %s has mode %04o: group or others can write it, so they could replace the credential or hold its lock (run \"chmod 700 %s\")", dir, st.Mode().Perm(), dir)
	}
	return nil
}
