package kubeexec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// What kubectl v1.32 sends (provideClusterInfo: true adds spec.cluster).
const (
	kubectlV1      = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
	kubectlV1beta1 = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`
	withCluster    = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443","certificate-authority-data":"LS0tLQ==","config":{"profile":"work"}},"interactive":true}}`
)

func TestParseExecInfo(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		version     string
		interactive bool
	}{
		{"v1 from kubectl", kubectlV1, V1, false},
		{"v1beta1 from kubectl", kubectlV1beta1, V1beta1, true},
		{"absent: v1, never interactive", "", V1, false},
		{"blank: v1, never interactive", " \n", V1, false},
		{"interactive absent", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}}`, V1, false},
		{"spec absent", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`, V1beta1, false},
		{"unknown fields ignored", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true,"future":1},"metadata":{}}`, V1, true},
		{"cluster info", withCluster, V1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseExecInfo(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if req.APIVersion != tc.version || req.Kind != Kind || req.Spec.Interactive != tc.interactive {
				t.Fatalf("got %+v, want apiVersion %s, interactive %v", req, tc.version, tc.interactive)
			}
		})
	}
	req, _ := ParseExecInfo(withCluster)
	if c := req.Spec.Cluster; c == nil || c.Server != "https://127.0.0.1:6443" || string(c.CertificateAuthorityData) != "----" || string(c.Config) != `{"profile":"work"}` {
		t.Fatalf("cluster %+v", req.Spec.Cluster)
	}
}

func TestParseExecInfoRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"v1alpha1 (removed in 1.24)", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`, `apiVersion "client.authentication.k8s.io/v1alpha1"`},
		{"no apiVersion", `{"kind":"ExecCredential","spec":{}}`, `apiVersion ""`},
		{"other kind", `{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`, `kind "Pod"`},
		{"no kind", `{"apiVersion":"client.authentication.k8s.io/v1"}`, `kind ""`},
		{"not JSON", `apiVersion: client.authentication.k8s.io/v1`, "not an ExecCredential"},
		{"JSON null", `null`, `kind ""`},
		{"array", `[]`, "not an ExecCredential"},
		{"trailing garbage", kubectlV1 + `x`, "not an ExecCredential"},
		{"interactive as string", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"true"}}`, "not an ExecCredential"},
		{"huge", `{"kind":"ExecCredential","x":"` + strings.Repeat("a", maxExecInfo) + `"}`, "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseExecInfo(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), InfoEnv) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, InfoEnv, tc.want)
			}
		})
	}
}

// TestResponse: the answer carries the request's apiVersion, the token, and the reported
// expiration in the form Kubernetes timestamps have (RFC 3339, UTC, whole seconds).
func TestResponse(t *testing.T) {
	now := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	expiry := now.Add(time.Hour).Add(500 * time.Millisecond)
	for _, v := range []string{V1, V1beta1} {
		resp, err := Response(v, "at_1", expiry, now)
		if err != nil {
			t.Fatal(err)
		}
		data, err := resp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		want := `{"apiVersion":"` + v + `","kind":"ExecCredential","spec":{},"status":{"expirationTimestamp":"2026-11-29T17:59:30Z","token":"at_1"}}` + "\n"
		if string(data) != want {
			t.Fatalf("got  %s\nwant %s", data, want)
		}
	}
	resp, err := Response(V1, "at_1", time.Time{}, now)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := resp.Marshal()
	if strings.Contains(string(data), "expirationTimestamp") {
		t.Fatalf("unknown lifetime reported an expiration: %s", data)
	}
	if _, err := Response("client.authentication.k8s.io/v1alpha1", "at_1", expiry, now); err == nil {
		t.Fatal("answered in an unsupported apiVersion")
	}
	if _, err := Response(V1, "", expiry, now); err == nil {
		t.Fatal("answered with an empty token")
	}
}

func TestReportedExpiry(t *testing.T) {
	now := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		left, early time.Duration
	}{
		{time.Hour, 30 * time.Second},
		{5 * time.Minute, 30 * time.Second},
		{2 * time.Minute, 12 * time.Second},
		{10 * time.Second, time.Second},
		{0, 0},
		{-time.Minute, 0}, // never moved later than the real expiry
	} {
		got := ReportedExpiry(now.Add(tc.left), now)
		if want := now.Add(tc.left - tc.early); !got.Equal(want) {
			t.Errorf("token valid for %s: reported %s, want %s (%s early)", tc.left, got, want, tc.early)
		}
		if got.Location() != time.UTC {
			t.Errorf("reported %s, want UTC", got)
		}
	}
	if !ReportedExpiry(time.Time{}, now).IsZero() {
		t.Error("unknown expiry reported as known")
	}
	// The margin stays below tokctl's default --min-ttl (60 s): when kubectl comes back at the
	// reported time, tokctl refreshes instead of answering with an expiration already past.
	if MaxMargin >= time.Minute {
		t.Fatalf("MaxMargin %s must stay below the default min-ttl", MaxMargin)
	}
	// A sub-second expiry is truncated, never rounded up past the real expiry.
	exp := now.Add(time.Hour + 900*time.Millisecond)
	if got := ReportedExpiry(exp, now); got.After(exp) || got.Nanosecond() != 0 {
		t.Fatalf("reported %s for %s", got, exp)
	}
}

// A kubeconfig exec section as the kubeconfig loader decodes it (JSON after YAML).
type execConfig struct {
	APIVersion string   `json:"apiVersion"`
	Command    string   `json:"command"`
	Args       []string `json:"args"`
	Env        []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"env"`
	InteractiveMode    string `json:"interactiveMode"`
	ProvideClusterInfo *bool  `json:"provideClusterInfo"`
}

func TestKubeconfigYAML(t *testing.T) {
	got := KubeconfigYAML(User{Name: "tokctl-work", Command: "tokctl", Args: []string{"kubectl", "--profile", "work"}})
	want := `apiVersion: v1
kind: Config
users:
- name: tokctl-work
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: tokctl
      args:
      - kubectl
      - --profile
      - work
      interactiveMode: IfAvailable
      provideClusterInfo: false
`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestYAMLStrings: values YAML would read as something other than a string are quoted.
func TestYAMLStrings(t *testing.T) {
	for in, want := range map[string]string{
		"work": "work", "--profile": "--profile", "/usr/local/bin/tokctl": "/usr/local/bin/tokctl", "TOKCTL_HOME": "TOKCTL_HOME",
		"team.prod-1": "team.prod-1",
		"no":          `"no"`, "Yes": `"Yes"`, "on": `"on"`, "null": `"null"`, "true": `"true"`, "2024": `"2024"`, "1.5": `"1.5"`,
		"0x1F": `"0x1F"`, "-": `"-"`, "": `""`, "a: b": `"a: b"`, "/home/my user/x": `"/home/my user/x"`, "#x": `"#x"`,
		"C:\\bin\\tokctl.exe": `"C:\\bin\\tokctl.exe"`, "~": `"~"`, "*a": `"*a"`,
	} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %s, want %s", in, got, want)
		}
		if q := yamlString(in); strings.HasPrefix(q, `"`) {
			var back string
			if err := json.Unmarshal([]byte(q), &back); err != nil || back != in {
				t.Errorf("quoted %q does not read back: %v", in, err)
			}
		}
	}
}
