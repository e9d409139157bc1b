package gitcred

import "testing"

func TestPatternMatch(t *testing.T) {
	type req struct{ proto, host, path string }
	for _, tc := range []struct {
		pattern   string
		req       req
		served    bool
		needsPath bool
	}{
		{"github.com", req{"https", "github.com", ""}, true, false},
		{"github.com", req{"https", "GitHub.com:443", ""}, true, false},
		{"github.com:443", req{"https", "github.com", ""}, true, false},
		{"github.com", req{"http", "github.com", ""}, false, false}, // a bare host is https only
		{"github.com", req{"https", "github.com:8443", ""}, false, false},
		{"github.com", req{"https", "gist.github.com", ""}, false, false},
		{"github.com", req{"https", "github.com.evil.example", ""}, false, false},
		{"http://127.0.0.1:8080", req{"http", "127.0.0.1:8080", ""}, true, false},
		{"http://127.0.0.1:8080", req{"http", "127.0.0.1:8081", ""}, false, false},
		{"HTTPS://Git.Example.com/", req{"https", "git.example.com", ""}, true, false},
		{"*.example.com", req{"https", "git.example.com", ""}, true, false},
		{"*.example.com", req{"https", "example.com", ""}, false, false},
		{"*.example.com", req{"https", "a.b.example.com", ""}, false, false},
		{"https://github.com/acme", req{"https", "github.com", "acme/app.git"}, true, false},
		{"https://github.com/acme/", req{"https", "github.com", "acme"}, true, false},
		{"https://github.com/acme", req{"https", "github.com", "acme-evil/app.git"}, false, false},
		{"https://github.com/acme/app", req{"https", "github.com", "acme/app.git"}, true, false},
		{"https://github.com/acme/app.git", req{"https", "github.com", "acme/app"}, true, false},
		{"github.com/acme", req{"https", "github.com", "acme/app.git"}, true, false},
		{"https://github.com/acme", req{"https", "github.com", ""}, false, true}, // no credential.useHttpPath
		{"https://github.com/acme", req{"https", "gitlab.com", ""}, false, false},
	} {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", tc.pattern, err)
			continue
		}
		r := &Request{Protocol: tc.req.proto, Host: tc.req.host, Path: tc.req.path}
		score, needsPath := p.Match(r)
		if (score > 0) != tc.served || needsPath != tc.needsPath {
			t.Errorf("%q serves %s: score %d needsPath %v, want served %v needsPath %v", tc.pattern, r.URL(), score, needsPath, tc.served, tc.needsPath)
		}
	}
}

// The closer pattern wins: a path beats a host, a longer path a shorter one, an exact host a
// wildcard.
func TestPatternSpecificity(t *testing.T) {
	r := &Request{Protocol: "https", Host: "git.example.com", Path: "acme/app.git"}
	order := []string{"*.example.com", "git.example.com", "https://git.example.com/acme", "https://git.example.com/acme/app"}
	last := 0
	for _, s := range order {
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatal(err)
		}
		score, _ := p.Match(r)
		if score <= last {
			t.Fatalf("%q scores %d, not more than the one before (%d)", s, score, last)
		}
		last = score
	}
}

func TestParsePatternRejects(t *testing.T) {
	for _, s := range []string{"", "https://", "://host", "user@github.com", "https://h/p?x", "ht/tp://h", "a b"} {
		if p, err := ParsePattern(s); err == nil {
			t.Errorf("ParsePattern(%q) = %+v, want an error", s, p)
		}
	}
}
