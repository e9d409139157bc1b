// Package e2e holds tokctl's end-to-end tests against real components: a real Ory Hydra v2.3.0
// authorization server, the real tokctl binary run as separate processes, and real headless
// Chromium (design.md §8). It is a separate Go module so that its heavy dependencies (chromedp,
// and Hydra's build in tools/hydra) never reach tokctl's own go.mod.
//
// Run it with "go test ./..." in this directory, or through ../test.sh (which installs Chromium
// as root). TestMain builds Hydra once (hydra.sh caches the binary outside the repository),
// starts it with an in-memory database and a 2 s access-token lifetime, behind a front door that
// counts refreshes per client, and starts a login/consent app that accepts every login as
// "alice". Each test registers its own client; the tests run one after another.
//
// The command headless-open (cmd/headless-open) is a $BROWSER for "tokctl login" in tests: it
// drives Debian's Chromium through a login to the loopback redirect.
package e2e
