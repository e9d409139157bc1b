// Package kubeexec speaks kubectl's exec credential protocol, client.authentication.k8s.io v1
// and v1beta1: it reads the ExecCredential request kubectl passes to a credential plugin in
// KUBERNETES_EXEC_INFO and builds the ExecCredential response the plugin prints on stdout.
//
// It depends on no Kubernetes library: the few JSON types are defined here, with the field
// names of k8s.io/client-go/pkg/apis/clientauthentication. Both versions share one shape for
// everything tokctl reads or writes; only apiVersion differs, and a response must carry the
// apiVersion of the request (kubectl rejects any other).
package kubeexec

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The protocol's names.
const (
	// InfoEnv is the variable kubectl sets for the plugin.
	InfoEnv = "KUBERNETES_EXEC_INFO"
	// V1 and V1beta1 are the apiVersions tokctl speaks. v1alpha1 left Kubernetes in 1.24.
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
	// Kind is the kind of both the request and the response.
	Kind = "ExecCredential"
)

// maxExecInfo bounds what ParseExecInfo reads; kubectl's requests are a few KiB at most (the
// cluster's CA certificate is the largest part).
const maxExecInfo = 1 << 20

// ExecCredential is the request kubectl sends (Spec filled in) and the response a plugin
// returns (Status filled in).
type ExecCredential struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Spec       Spec    `json:"spec"`
	Status     *Status `json:"status,omitempty"`
}

// Spec is what kubectl tells the plugin.
type Spec struct {
	// Cluster is present only when the kubeconfig sets provideClusterInfo: true.
	Cluster *Cluster `json:"cluster,omitempty"`
	// Interactive reports whether the plugin may use stdin to talk to the user. kubectl sets it
	// from the kubeconfig's interactiveMode and whether its own stdin is a terminal.
	Interactive bool `json:"interactive,omitempty"`
}

// Cluster describes the cluster kubectl is about to call (provideClusterInfo: true).
type Cluster struct {
	Server                   string          `json:"server"`
	TLSServerName            string          `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte          `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string          `json:"proxy-url,omitempty"`
	DisableCompression       bool            `json:"disable-compression,omitempty"`
	Config                   json.RawMessage `json:"config,omitempty"`
}

// Status is the plugin's answer: a bearer token (tokctl never returns client certificates).
type Status struct {
	// ExpirationTimestamp is when kubectl must run the plugin again; nil means kubectl uses the
	// token until the API server answers 401.
	ExpirationTimestamp *time.Time `json:"expirationTimestamp,omitempty"`
	Token               string     `json:"token,omitempty"`
}

// ParseExecInfo reads the value of KUBERNETES_EXEC_INFO. An empty value (kubectl older than
// 1.20, or the plugin run by hand) is a v1 request with interactive false: a plugin that is
// not told it may prompt must not. Anything else must be a JSON ExecCredential of a supported
// apiVersion; unknown fields are ignored, as Kubernetes API clients do.
func ParseExecInfo(value string) (*ExecCredential, error) {
	if strings.TrimSpace(value) == "" {
		return &ExecCredential{APIVersion: V1, Kind: Kind}, nil
	}
	if len(value) > maxExecInfo {
		return nil, fmt.Errorf("%s: %d bytes, more than a request can be", InfoEnv, len(value))
	}
	var req ExecCredential
	if err := json.Unmarshal([]byte(value), &req); err != nil {
		return nil, fmt.Errorf("%s is not an ExecCredential: %w", InfoEnv, err)
	}
	if req.Kind != Kind {
		return nil, fmt.Errorf("%s has kind %q, want %q", InfoEnv, req.Kind, Kind)
	}
	if err := CheckVersion(req.APIVersion); err != nil {
		return nil, err
	}
	req.Status = nil // a request has no status; never echo one back
	return &req, nil
}

// CheckVersion reports whether apiVersion is one tokctl speaks.
func CheckVersion(apiVersion string) error {
	if apiVersion != V1 && apiVersion != V1beta1 {
		return fmt.Errorf("%s has apiVersion %q: tokctl speaks %s and %s (set apiVersion in the kubeconfig's exec section)",
			InfoEnv, apiVersion, V1, V1beta1)
	}
	return nil
}

// Response is the ExecCredential answering a request of apiVersion with token, which stops
// working at expiry (zero: unknown). The reported expiration is ReportedExpiry(expiry, now).
func Response(apiVersion, token string, expiry, now time.Time) (*ExecCredential, error) {
	if err := CheckVersion(apiVersion); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("exec credential: empty token")
	}
	st := &Status{Token: token}
	if r := ReportedExpiry(expiry, now); !r.IsZero() {
		st.ExpirationTimestamp = &r
	}
	return &ExecCredential{APIVersion: apiVersion, Kind: Kind, Status: st}, nil
}

// Marshal encodes c as one line of JSON and a newline, as a plugin prints it.
func (c *ExecCredential) Marshal() ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
