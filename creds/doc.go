// Package creds is tokctl's refresh transaction as a Go library: Source, an
// oauth2.TokenSource that any number of goroutines and processes can share on one
// credential, plus the credential model (Credential) and the stores that keep it.
//
// # What Source promises
//
// However many callers find the access token expiring at the same moment — goroutines
// sharing one Source, separate Source values on the same store, other processes such as
// "tokctl token" or another Go program — the token endpoint sees exactly one refresh,
// every caller gets the same new access token, and no refresh token is ever presented
// twice. The last point is what keeps a provider that rotates refresh tokens (Hydra,
// Okta, Auth0, Keycloak, GitLab …) from taking a second presentation for a replay and
// revoking the whole login.
//
// Source.Get (and Token, its oauth2.TokenSource form) runs this transaction:
//
//  1. Read the credential without a lock; if its access token is valid for MinTTL, return
//     it. This hot path takes no lock and makes no network call.
//  2. Otherwise take the credential's lock: the lock file at LockPath (package lockfile),
//     or a LockingStore's own lock. While waiting, watch the store (Stamper): when a
//     sibling's refresh lands, return that token without taking the lock.
//  3. Under the lock, re-read the credential; if a sibling refreshed it meanwhile, return
//     that.
//  4. Refresh once through the Refresher (retrying only transient failures, within
//     RefreshTimeout), merge the response into the stored credential, save it atomically,
//     release the lock — and only then return the token.
//
// Within one process a mutex gives the same single flight, so a Source is safe for
// concurrent use. Across processes the lock does: every Source, and every tokctl
// process, whose Store names the same credential and whose LockPath names the same lock
// file takes part. A Source given another LockPath for the same credential does not, and
// can race.
//
// When the provider rejects the refresh token (invalid_grant), Source first checks
// whether something outside the lock has rotated it meanwhile and adopts the newer one.
// Otherwise the rejection is recorded by the token's Fingerprint beside the lock
// (FailurePath) or in the store (RejectionStore), so that the callers queued behind the
// lock answer *LoginRequiredError at once instead of each re-sending a dead token. The
// credential itself is kept.
//
// # Stores
//
//   - FileStore: a JSON file, mode 0600, in a directory only the user may write; Save
//     writes a temporary file, fsyncs and renames it over the old one. It reads and keeps
//     the field spellings of files other programs own (expiry, expires_at, expires_in,
//     camelCase) and every field it does not know.
//   - KeyringStore: the OS keychain (macOS Keychain, Windows Credential Manager, a Linux
//     Secret Service), split over several items where one is too small. It has no lock of
//     its own: Source still locks the file at LockPath.
//   - LockingStore: a store that keeps its own lock next to the credential, for callers on
//     several hosts, where a lock file would exclude only the callers of one host. Package
//     redisstore is one (a Redis server shared by a fleet); Source then ignores LockPath.
//
// Any other Store works too, if its Save is atomic.
//
// # Sharing a credential with tokctl
//
// "tokctl token --profile NAME" keeps NAME's credential, for a profile with the default
// file store, in STATE/credentials/NAME.json and locks STATE/credentials/NAME.json.lock,
// where STATE is $TOKCTL_HOME, else $XDG_STATE_HOME/tokctl, else ~/.local/state/tokctl.
// config.Default and config.Paths.OpenStore open the same store and name the same lock,
// exactly as tokctl does, so that a Source built on them takes part in the same single
// refresh as every tokctl process:
//
//	p, err := config.Default() // TOKCTL_HOME, else the XDG directories
//	prof, err := p.LoadProfile("work")
//	store, lockPath, err := p.OpenStore(prof)
//	src := &creds.Source{
//		Store:     store,
//		LockPath:  lockPath,
//		Refresher: &flows.Refresher{TokenURL: prof.TokenURL, ClientID: prof.ClientID, AuthStyle: oauth2.AuthStyleInParams},
//		Command:   "my-service", // recorded in the lock's owner record
//	}
//	client := oauth2.NewClient(ctx, src)
//
// Errors of Get (and Token): *LoginRequiredError (a person must log in), a
// *lockfile.HeldError (timed out waiting for a sibling: errors.Is(err,
// lockfile.ErrTimeout)), *UnavailableError (the provider kept failing), *CorruptError,
// *PermissionError, or a configuration error.
package creds
