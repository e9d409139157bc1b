package lockfile

import (
	"testing"
	"time"
)

func FuzzParseOwner(f *testing.F) {
	for _, seed := range []string{
		"",
		"4242\n",
		" 17 ",
		`{"pid":4242,"host":"box","since":"2026-11-29T17:03:49Z","command":"tokctl token"}` + "\n",
		`{"pid":4242,"host":"box","since":"2026-11-29T17:03:49Z","lease":true}`,
		`{"pid": 99, "hostname": "elsewhere"}`,
		`{"pid":12,"host":"bo`,
		`{"pid":"12"}`,
		`{"pid":-1}`,
		`{"pid":1e3}`,
		`{"pid":1}{"pid":2}`,
		"garbage\x00\xff",
		"99999999999",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, kind := parseOwner(data)
		if o.String() == "" {
			t.Fatal("empty description")
		}
		switch kind {
		case kindTokctl, kindForeign:
			if o.PID <= 0 || o.PID > maxPID {
				t.Fatalf("kind %d with pid %d", kind, o.PID)
			}
		default:
			if o != (Owner{}) {
				t.Fatalf("kind %d carries owner %+v", kind, o)
			}
		}
		if kind == kindTokctl {
			again, kind2 := parseOwner(o.record())
			if kind2 != kindTokctl || again.PID != o.PID || again.Host != o.Host ||
				!again.Since.Equal(o.Since) || again.Command != o.Command || again.Lease != o.Lease {
				t.Fatalf("round trip: %+v became %+v (kind %d)", o, again, kind2)
			}
		}
	})
}

func TestParseOwnerKinds(t *testing.T) {
	since := time.Date(2026, 11, 29, 17, 3, 49, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		kind contentKind
		want Owner
	}{
		{"", kindEmpty, Owner{}},
		{" \n", kindEmpty, Owner{}},
		{"4242\n", kindForeign, Owner{PID: 4242}},
		{`{"pid":7,"hostname":"elsewhere"}`, kindForeign, Owner{PID: 7, Host: "elsewhere"}},
		{`{"pid":7,"host":"box","since":"2026-11-29T17:03:49Z","command":"c"}`, kindTokctl,
			Owner{PID: 7, Host: "box", Since: since, Command: "c"}},
		{`{"pid":7,"host":"b`, kindPartial, Owner{}},
		{`{`, kindPartial, Owner{}},
		{"hello", kindGarbage, Owner{}},
		{"0\n", kindGarbage, Owner{}},
		{`{"pid":"7"}`, kindForeign, Owner{PID: 7}}, // some tools quote it
		{`{"pid":"x7"}`, kindGarbage, Owner{}},
		{`{"host":"box"}`, kindGarbage, Owner{}},
		{`{"pid":7} trailing`, kindGarbage, Owner{}},
	} {
		o, kind := parseOwner([]byte(tc.in))
		if kind != tc.kind || o.PID != tc.want.PID || o.Host != tc.want.Host ||
			!o.Since.Equal(tc.want.Since) || o.Command != tc.want.Command {
			t.Errorf("parseOwner(%q) = %+v, %d; want %+v, %d", tc.in, o, kind, tc.want, tc.kind)
		}
	}
}
