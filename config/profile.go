package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Profile is one named OAuth2 client configuration. It never holds a secret: a client secret
// (or a Redis store's password) is read from the environment variable or file it names when
// needed.
type Profile struct {
	Name            string `json:"-"`
	Provider        string `json:"provider,omitempty"`
	Issuer          string `json:"issuer,omitempty"`
	AuthURL         string `json:"auth_url,omitempty"`
	TokenURL        string `json:"token_url,omitempty"`
	DeviceURL       string `json:"device_url,omitempty"`
	RevokeURL       string `json:"revoke_url,omitempty"`
	ClientID        string `json:"client_id"`
	ClientSecretEnv string `json:"client_secret_env,omitempty"`
	// ClientSecretFile names a file (0600) holding the client secret, for service accounts.
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// Grant is "" (authorization code, refreshed with the refresh token) or
	// "client_credentials" (a service account: token re-fetched with the client secret).
	Grant    string   `json:"grant,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	Audience string   `json:"audience,omitempty"`
	// Store is "" (the 0600 file), "keyring", or the URL of a Redis store shared by a fleet
	// (redis://, rediss://, redis+sentinel://; never with a password in it).
	Store        string `json:"store,omitempty"`
	RedirectPort int    `json:"redirect_port,omitempty"`
	// StorePasswordEnv names the environment variable holding the Redis store's password
	// (default TOKCTL_REDIS_PASSWORD); StorePasswordFile a file (0600) holding it instead.
	// StoreCAFile is a PEM bundle of the CAs that sign a rediss:// server's certificate.
	StorePasswordEnv  string `json:"store_password_env,omitempty"`
	StorePasswordFile string `json:"store_password_file,omitempty"`
	StoreCAFile       string `json:"store_ca_file,omitempty"`
	// Hosts are the hosts or URL prefixes this profile serves as a git credential helper
	// ("gitlab.example.com", "https://github.com/acme/"); GitUsername overrides the preset's.
	Hosts       []string `json:"hosts,omitempty"`
	GitUsername string   `json:"git_username,omitempty"`
	// JWKSURL and IssParameter come from discovery: the keys that sign ID tokens, and whether
	// the server adds iss to its redirects (RFC 9207), which login then requires.
	JWKSURL      string `json:"jwks_url,omitempty"`
	IssParameter bool   `json:"iss_parameter,omitempty"`
	// AllowInsecureHTTP accepts plain http:// endpoints on non-loopback hosts
	// (profile set --allow-insecure-http): refresh tokens then cross the network in the clear.
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`
}

// ErrNoProfile means the named profile does not exist.
var ErrNoProfile = errors.New("no such profile")

// ValidName reports whether name can name a profile (and a file).
func ValidName(name string) error {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("invalid profile name %q: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("invalid profile name %q: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'", name)
		}
	}
	return nil
}

// LoadProfile reads profile name; a missing one is an error wrapping ErrNoProfile.
func (p Paths) LoadProfile(name string) (*Profile, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	path := p.ProfileFile(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("profile %q: %w", name, ErrNoProfile)
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return parseProfile(name, path, data)
}

// parseProfile reads a profile file's content: one JSON object of known fields (a typo in a
// hand-edited file is an error, not a silently ignored setting), nothing after it.
func parseProfile(name, path string, data []byte) (*Profile, error) {
	prof := &Profile{Name: name}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(prof); err != nil {
		return nil, fmt.Errorf("profile %s is not valid: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("profile %s is not valid: more than one JSON value", path)
	}
	return prof, nil
}

// SaveProfile writes prof atomically (temp file and rename) with mode 0600.
func (p Paths) SaveProfile(prof *Profile) error {
	if err := ValidName(prof.Name); err != nil {
		return err
	}
	path := p.ProfileFile(prof.Name)
	if err := EnsurePrivateDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	data, err := json.MarshalIndent(prof, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".profile-*")
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}

// ListProfiles returns the profile names, sorted.
func (p Paths) ListProfiles() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(p.Config, "profiles"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && !e.IsDir() && ValidName(name) == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// RemoveProfile deletes profile name's configuration (not its credential).
func (p Paths) RemoveProfile(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := os.Remove(p.ProfileFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("profile %q: %w", name, ErrNoProfile)
	}
	return err
}
