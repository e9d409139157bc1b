package gitcred

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, in string) *Request {
	t.Helper()
	req, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return req
}

// What git 2.39 sends for "git ls-remote https://git.example.com/acme/app.git" with
// credential.useHttpPath on.
func TestParseGit239Request(t *testing.T) {
	req := parse(t, "protocol=https\nhost=git.example.com:8443\npath=acme/app.git\nusername=alice\n\n")
	want := &Request{Protocol: "https", Host: "git.example.com:8443", Path: "acme/app.git", Username: "alice"}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("got %+v, want %+v", req, want)
	}
	if got := req.URL(); got != "https://git.example.com:8443/acme/app.git" {
		t.Fatalf("URL() = %q", got)
	}
}

// What git ≥ 2.46 sends: capabilities and the server's WWW-Authenticate headers, in order.
func TestParseArrays(t *testing.T) {
	req := parse(t, "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\n"+
		"wwwauth[]=Bearer realm=\"x\"\nwwwauth[]=Basic realm=\"y\"\n\n")
	if !req.HasCapability("authtype") || !req.HasCapability("state") || req.HasCapability("x") {
		t.Fatalf("capabilities %q", req.Capabilities)
	}
	if want := []string{`Bearer realm="x"`, `Basic realm="y"`}; !reflect.DeepEqual(req.WWWAuth, want) {
		t.Fatalf("wwwauth %q, want %q", req.WWWAuth, want)
	}
}

func TestParseValues(t *testing.T) {
	req := parse(t, "password=a=b==\nhost=first\nhost=second\nunknown=ignored\nquit=1\nusername=\n")
	if req.Password != "a=b==" {
		t.Errorf("a value keeps its '=': %q", req.Password)
	}
	if req.Host != "second" {
		t.Errorf("a repeated attribute replaces the earlier one: %q", req.Host)
	}
	if req.Username != "" {
		t.Errorf("empty value: %q", req.Username)
	}
}

func TestParseEndings(t *testing.T) {
	for name, in := range map[string]string{
		"blank line":           "protocol=https\nhost=h\n\n",
		"EOF":                  "protocol=https\nhost=h\n",
		"EOF without \\n":      "protocol=https\nhost=h",
		"CRLF":                 "protocol=https\r\nhost=h\r\n\r\n",
		"nothing after \\n\\n": "protocol=https\nhost=h\n\nhost=ignored\n",
	} {
		req, err := Parse(strings.NewReader(in))
		if err != nil || req.Protocol != "https" || req.Host != "h" {
			t.Errorf("%s: %+v, %v", name, req, err)
		}
	}
	if req := parse(t, ""); !reflect.DeepEqual(req, &Request{}) {
		t.Errorf("empty input: %+v", req)
	}
}

// Reading stops at the blank line: a caller can go on reading what follows.
func TestParseStopsAtBlankLine(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("host=h\n\nrest\n"), MaxLine)
	if _, err := ParseReader(br); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "rest\n" {
		t.Fatalf("after the description: %q", rest)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"no '='":           "protocol=https\nhost\n\n",
		"NUL in a value":   "protocol=https\npassword=a\x00b\n",
		"NUL in a key":     "pass\x00word=x\n",
		"CR in a value":    "host=evil.example.com\rhost=good\n",
		"line too long":    "password=" + strings.Repeat("x", MaxLine) + "\n",
		"input too large":  strings.Repeat("wwwauth[]="+strings.Repeat("x", 1000)+"\n", MaxInput/1000+1),
		"url, no scheme":   "url=example.com/repo\n",
		"url, encoded LF":  "url=https://example.com%0a/repo\n",
		"url, encoded CR":  "url=https://u%0d@example.com/\n",
		"url, encoded NUL": "url=https://example.com/a%00b\n",
	} {
		req, err := Parse(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: accepted as %+v", name, req)
			continue
		}
		if !errors.Is(err, ErrSyntax) || req != nil {
			t.Errorf("%s: %v (want ErrSyntax and no request)", name, err)
		}
		if strings.Contains(err.Error(), "xxxxxxxxxx") {
			t.Errorf("%s: the error repeats the input", name)
		}
	}
	// A line of exactly MaxLine bytes, newline included, is accepted.
	long := "password=" + strings.Repeat("x", MaxLine-len("password=")-1) + "\n"
	if _, err := Parse(strings.NewReader(long)); err != nil {
		t.Errorf("a line of MaxLine bytes: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	req := parse(t, "host=old\npath=old\nurl=https://al%40ice:p%3Ass@Git.Example.com:8443//acme/app.git/\n")
	want := &Request{Protocol: "https", Host: "Git.Example.com:8443", Path: "acme/app.git", Username: "al@ice", Password: "p:ss"}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("got %+v, want %+v", req, want)
	}
	req = parse(t, "url=http://h/p?q=1@x\n")
	if req.Host != "h" || req.Username != "" || req.Path != "p?q=1@x" {
		t.Fatalf("'@' after the path is not a user: %+v", req)
	}
	if req = parse(t, "url=https://h/%zz%4"); req.Path != "%zz%4" {
		t.Fatalf("malformed escapes are kept: %q", req.Path)
	}
}

func TestFormat(t *testing.T) {
	exp := time.Unix(1767225600, 0)
	out, err := (&Response{Username: "oauth2", Password: "at_123", PasswordExpiry: exp}).Format()
	if err != nil {
		t.Fatal(err)
	}
	if want := "username=oauth2\npassword=at_123\npassword_expiry_utc=1767225600\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	out, err = (&Response{Capabilities: []string{"authtype"}, AuthType: "Bearer", Credential: "at_123"}).Format()
	if err != nil {
		t.Fatal(err)
	}
	if want := "capability[]=authtype\nauthtype=Bearer\ncredential=at_123\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	for _, bad := range []string{"a\nb", "a\rb", "a\x00b"} {
		if out, err := (&Response{Username: "u", Password: bad}).Format(); err == nil || out != nil {
			t.Errorf("password %q: formatted %q", bad, out)
		}
	}
}

// What Format writes, git's parser (and ours) reads back.
func TestFormatParses(t *testing.T) {
	out, err := (&Response{Username: "x-access-token", Password: "at_=x"}).Format()
	if err != nil {
		t.Fatal(err)
	}
	req := parse(t, string(out))
	if req.Username != "x-access-token" || req.Password != "at_=x" {
		t.Fatalf("%+v", req)
	}
}
