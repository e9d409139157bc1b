package kubeexec

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzParseExecInfo: whatever KUBERNETES_EXEC_INFO holds, parsing never panics, accepts only the
// two supported apiVersions, and an accepted request gets a response kubectl can decode in the
// same apiVersion, carrying the token.
func FuzzParseExecInfo(f *testing.F) {
	for _, seed := range []string{
		"",
		kubectlV1,
		kubectlV1beta1,
		withCluster,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"certificate-authority-data":"!!"}}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"planted"}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}{}`,
		`null`, `[]`, `"ExecCredential"`, `{"kind":`, "\x00\xff",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, info string) {
		req, err := ParseExecInfo(info)
		if err != nil {
			if req != nil {
				t.Fatal("a request and an error")
			}
			return
		}
		if req.APIVersion != V1 && req.APIVersion != V1beta1 || req.Kind != Kind {
			t.Fatalf("accepted %q %q", req.APIVersion, req.Kind)
		}
		if req.Status != nil {
			t.Fatal("a request kept a status")
		}
		resp, err := Response(req.APIVersion, "at_fuzz", now.Add(time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		data, err := resp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			APIVersion, Kind string
			Status           struct {
				Token               string
				ExpirationTimestamp time.Time
			}
		}
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.APIVersion != req.APIVersion || back.Kind != Kind || back.Status.Token != "at_fuzz" ||
			!back.Status.ExpirationTimestamp.Equal(now.Add(time.Hour-MaxMargin)) {
			t.Fatalf("response %s to %s", data, info)
		}
	})
}
