package gitcred

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, refuses input only with ErrSyntax, and that what it
// accepts is safe to hand on: no value holds a newline, carriage return or NUL; writing the
// request out again and re-parsing it gives the same request; matching it against patterns does
// not panic, and a pattern made from the request's own URL serves it.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"protocol=https\nhost=github.com\n\n",
		"protocol=https\nhost=git.example.com:8443\npath=acme/app.git\nusername=oauth2\npassword=at_x=y\n\n",
		"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nwwwauth[]=Basic realm=\"git\"\n\n",
		"protocol=https\r\nhost=h\r\n\r\n",
		"url=https://u:p@h:1/a/b.git/\n",
		"url=https://h%0a/\n",
		"url=h\n",
		"host=a\rb\n",
		"password=a\x00\n",
		"novalue\n",
		"=\n",
		"host=*.example.com\nprotocol=HTTPS\n",
		"protocol=İ\nhost=0\n", // a non-ASCII scheme: Unicode case folding would make it miss itself
		"host=[::1]:8080\nprotocol=http\npath=/x/\n",
		"",
		"\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := Parse(strings.NewReader(in))
		if err != nil {
			if req != nil || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v with request %+v", err, req)
			}
			return
		}
		fields := append([]string{req.Protocol, req.Host, req.Path, req.Username, req.Password, req.AuthType, req.Credential},
			append(req.Capabilities, req.WWWAuth...)...)
		for _, v := range fields {
			if strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("accepted value %q", v)
			}
		}
		again, err := Parse(strings.NewReader(formatRequest(req)))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", formatRequest(req), err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip: %+v became %+v", req, again)
		}
		for _, s := range []string{"github.com", "*.example.com", "http://127.0.0.1:8080/a", req.Host} {
			if p, err := ParsePattern(s); err == nil {
				p.Match(req)
			}
		}
		if req.Protocol != "" && !strings.ContainsAny(req.Protocol+req.Host, "/:@?# \t") && !strings.ContainsAny(req.Path, "?#") {
			p, err := ParsePattern(req.URL())
			if err != nil || strings.TrimSpace(req.URL()) != req.URL() {
				return
			}
			if score, _ := p.Match(req); score == 0 {
				t.Fatalf("pattern %q does not serve its own request %+v", req.URL(), req)
			}
		}
	})
}

// formatRequest writes a request the way git does (credential_write), for the round trip.
func formatRequest(r *Request) string {
	var b strings.Builder
	for _, c := range r.Capabilities {
		b.WriteString("capability[]=" + c + "\n")
	}
	for _, kv := range [][2]string{{"authtype", r.AuthType}, {"credential", r.Credential}, {"protocol", r.Protocol},
		{"host", r.Host}, {"path", r.Path}, {"username", r.Username}, {"password", r.Password}} {
		if kv[1] != "" {
			b.WriteString(kv[0] + "=" + kv[1] + "\n")
		}
	}
	for _, w := range r.WWWAuth {
		b.WriteString("wwwauth[]=" + w + "\n")
	}
	return b.String() + "\n"
}
