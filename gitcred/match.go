package gitcred

import (
	"errors"
	"fmt"
	"strings"
)

// setURL applies the url attribute as git does: it replaces protocol, host, path, username and
// password with the URL's parts ("proto://[user[:pass]@]host[:port][/path]").
func (r *Request) setURL(raw string) error {
	proto, rest, ok := strings.Cut(raw, "://")
	if !ok || proto == "" {
		return errors.New("url has no scheme")
	}
	r.Protocol, r.Host, r.Path, r.Username, r.Password = proto, "", "", "", ""
	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		slash = len(rest)
	}
	hostPart := rest[:slash]
	if at := strings.IndexByte(rest, '@'); at >= 0 && at < slash {
		user := rest[:at]
		if colon := strings.IndexByte(user, ':'); colon >= 0 {
			r.Password = percentDecode(user[colon+1:])
			user = user[:colon]
		}
		r.Username = percentDecode(user)
		hostPart = rest[at+1 : slash]
	}
	r.Host = percentDecode(hostPart)
	r.Path = strings.TrimRight(percentDecode(strings.TrimLeft(rest[slash:], "/")), "/")
	for _, v := range []string{r.Username, r.Password, r.Host, r.Path} {
		if strings.ContainsAny(v, "\n\r\x00") {
			return errors.New("url holds an encoded newline, carriage return or NUL")
		}
	}
	return nil
}

// percentDecode decodes %XX escapes and keeps malformed ones as they are, like git's url_decode.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// Pattern is a parsed host entry of a profile: which requests it serves.
//
// Written as "HOST[:PORT][/PATH]" it means https; "SCHEME://HOST[:PORT][/PATH]" names the
// scheme (http only this way, so a token never goes out in clear text by accident). HOST may
// start with "*." to match any one label ("*.example.com" serves git.example.com, not
// a.b.example.com nor example.com), as git's own credential.<url> matching does. A PATH
// serves that repository or everything below it, and only when git sends the path
// (credential.useHttpPath); the default ports (443, 80) may be written or left out.
type Pattern struct {
	Scheme, Host, Path string
}

// ParsePattern parses a host entry; see Pattern.
func ParsePattern(s string) (Pattern, error) {
	s = strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "https", s
	}
	host, path, _ := strings.Cut(rest, "/")
	p := Pattern{Scheme: strings.ToLower(scheme), Host: normalHost(scheme, host), Path: strings.Trim(path, "/")}
	switch {
	case !validScheme(scheme):
		return p, fmt.Errorf("host %q: bad scheme", s)
	case p.Host == "" || strings.ContainsAny(p.Host, "@?#/ \t\n\r\x00"):
		return p, fmt.Errorf("host %q: want HOST, HOST/PATH or SCHEME://HOST[/PATH]", s)
	case strings.ContainsAny(p.Path, "?#\n\r\x00"):
		return p, fmt.Errorf("host %q: bad path", s)
	}
	return p, nil
}

// validScheme reports whether s is an RFC 3986 scheme: a letter, then letters, digits, "+", "-"
// or ".", all ASCII (so case folding is the ASCII one git uses).
func validScheme(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// String renders the pattern as a URL prefix.
func (p Pattern) String() string {
	if p.Path == "" {
		return p.Scheme + "://" + p.Host
	}
	return p.Scheme + "://" + p.Host + "/" + p.Path
}

// Match reports how specifically p serves req: 0 when it does not, more for a closer match (a
// longer path beats a shorter one, which beats none; an exact host beats a wildcard).
// needsPath is true when only the missing path kept p from deciding: p has a path, the
// scheme and host match, and git sent no path because credential.useHttpPath is off.
func (p Pattern) Match(req *Request) (score int, needsPath bool) {
	if !strings.EqualFold(req.Protocol, p.Scheme) {
		return 0, false
	}
	exact, ok := hostMatch(p.Host, normalHost(req.Protocol, req.Host))
	if !ok {
		return 0, false
	}
	score = 1
	if exact {
		score = 2
	}
	if p.Path == "" {
		return score, false
	}
	path := strings.Trim(req.Path, "/")
	if path == "" {
		return 0, true
	}
	if !pathUnder(path, p.Path) && !pathUnder(strings.TrimSuffix(path, ".git"), strings.TrimSuffix(p.Path, ".git")) {
		return 0, false
	}
	return score + 2 + len(p.Path), false
}

// pathUnder reports whether path is prefix or lies below it, segment by segment.
func pathUnder(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// normalHost lower-cases host and drops the scheme's default port.
func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	switch strings.ToLower(scheme) {
	case "https":
		host = strings.TrimSuffix(host, ":443")
	case "http":
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}

// hostMatch compares host names label by label; a pattern label "*" matches any one label.
func hostMatch(pattern, host string) (exact, ok bool) {
	if pattern == host {
		return true, true
	}
	pName, pPort := splitPort(pattern)
	hName, hPort := splitPort(host)
	if pPort != hPort {
		return false, false
	}
	pl, hl := strings.Split(pName, "."), strings.Split(hName, ".")
	if len(pl) != len(hl) {
		return false, false
	}
	for i := range pl {
		if pl[i] != hl[i] && (pl[i] != "*" || hl[i] == "") {
			return false, false
		}
	}
	return false, true
}

func splitPort(host string) (name, port string) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i], host[i+1:]
	}
	return host, ""
}
