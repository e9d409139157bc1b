// Command headless-open is a $BROWSER for tests of "tokctl login": it opens a URL in headless
// Chromium, lets the browser follow the provider's login and consent pages and redirects, and
// exits once the browser shows a page on a loopback address (127.0.0.1 or [::1]) that has
// finished loading: the client's redirect listener.
//
//	BROWSER=/path/to/headless-open tokctl login
//
// It prints the text of that final page to stderr and exits 0. After 30 seconds without reaching
// such a page it exits 1, naming the last page it saw (scheme, host and path only: a query can
// carry an authorization code). "localhost" does not count as the loopback page, so a provider
// or login app under test can live there.
//
// The browser is Debian's /usr/bin/chromium (apt-get install -y chromium), or the program named
// by $HEADLESS_OPEN_CHROMIUM, started headless with --no-sandbox (tests run as root) and a fresh
// user data directory, so no cookie or session survives from one run to the next.
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	timeout         = 30 * time.Second
	pollInterval    = 50 * time.Millisecond
	defaultChromium = "/usr/bin/chromium"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// page is what headless-open reads from the browser at each poll.
type page struct {
	Href  string `json:"href"`
	Ready string `json:"ready"` // document.readyState
	Text  string `json:"text"`  // document.body.innerText
}

func run(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: headless-open URL")
		return 2
	}
	if u, err := url.Parse(args[0]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "headless-open: %q is not an http(s) URL\n", args[0])
		return 2
	}
	profile, err := os.MkdirTemp("", "headless-open-")
	if err != nil {
		fmt.Fprintf(stderr, "headless-open: %v\n", err)
		return 1
	}
	defer os.RemoveAll(profile)

	// The deadline bounds everything, the browser's start included: when it passes, chromedp
	// stops the browser and the poll below returns.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	defer cancelBrowser()

	// Navigate waits for the first page to load; the login may go on from there by redirects,
	// scripts or refreshes, so what counts is the page the browser shows later.
	navErr := chromedp.Do(bctx, chromedp.Navigate(args[0]))
	last, err := waitForLoopback(bctx)
	if err != nil {
		fmt.Fprintf(stderr, "headless-open: no loaded page on 127.0.0.1 or [::1] within %v: %v\n", timeout, err)
		if last.Href != "" {
			fmt.Fprintf(stderr, "headless-open: last page: %s (%s)\n", redact(last.Href), last.Ready)
		}
		if navErr != nil {
			fmt.Fprintf(stderr, "headless-open: opening the URL: %v\n", navErr)
		}
		return 1
	}
	fmt.Fprintln(stderr, last.Text)
	return 0
}

// waitForLoopback polls the page until it is a loaded loopback page, and returns it; on
// failure it returns the last page seen.
func waitForLoopback(ctx context.Context) (page, error) {
	var last page
	for {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[page](
			`({href: location.href, ready: document.readyState, text: document.body ? document.body.innerText : ""})`))
		if err == nil { // errors while a navigation replaces the document are expected: poll again
			last = p
			if p.Ready == "complete" && isLoopback(p.Href) {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// isLoopback reports whether a page's URL is on 127.0.0.1 or [::1].
func isLoopback(href string) bool {
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
}

// redact drops a URL's query and fragment, which can hold codes and tokens.
func redact(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func chromium() string {
	if p := os.Getenv("HEADLESS_OPEN_CHROMIUM"); p != "" {
		return p
	}
	return defaultChromium
}
