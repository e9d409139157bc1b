package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/providers"
)

// fillFromPreset fills the endpoints the profile lacks from the preset, with its placeholders
// (--tenant, --domain, --realm) expanded.
func fillFromPreset(prof *config.Profile, preset providers.Preset, vars map[string]string) error {
	expanded, err := preset.Expand(vars)
	if err != nil {
		var flags []string
		for _, v := range preset.Placeholders() {
			flags = append(flags, "--"+v)
		}
		return withHint(ExitUsage, err, fmt.Sprintf("provider %s needs %s (or give --issuer / --token-url yourself)", preset.Name, strings.Join(flags, " and ")))
	}
	for dst, v := range map[*string]string{&prof.Issuer: expanded.Issuer, &prof.AuthURL: expanded.AuthURL,
		&prof.TokenURL: expanded.TokenURL, &prof.DeviceURL: expanded.DeviceURL, &prof.RevokeURL: expanded.RevokeURL} {
		if *dst == "" {
			*dst = v
		}
	}
	return nil
}

// discover fetches the issuer's metadata once and keeps the endpoints in the profile.
func discover(ctx context.Context, prof *config.Profile) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	md, err := providers.Discover(ctx, flows.NewHTTPClient(), prof.Issuer)
	if err != nil {
		return withHint(ExitUsage, fmt.Errorf("discovery: %w", err), "check --issuer, or give --token-url (and --auth-url) instead")
	}
	prof.IssParameter = md.AuthorizationResponseIssParameterSupported
	for dst, v := range map[*string]string{&prof.AuthURL: md.AuthorizationEndpoint, &prof.TokenURL: md.TokenEndpoint,
		&prof.DeviceURL: md.DeviceAuthorizationEndpoint, &prof.RevokeURL: md.RevocationEndpoint, &prof.JWKSURL: md.JWKSURI} {
		if v != "" {
			*dst = v
		}
	}
	return nil
}
