package commands

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/pkg/browser"
)

// browserChoice decides how login reaches a browser, and says why when it cannot open one.
// $BROWSER wins (as for git, gh and xdg-open); an SSH session or a Linux machine without a
// display gets the URL to open elsewhere and a prompt for the final redirect URL.
func browserChoice(noBrowser bool) (open bool, why string) {
	switch {
	case noBrowser:
		return false, "--no-browser"
	case os.Getenv("BROWSER") != "":
		return true, ""
	case os.Getenv("SSH_CONNECTION") != "" || os.Getenv("SSH_TTY") != "":
		return false, "this is an SSH session"
	case runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && !isWSL():
		return false, "there is no display"
	}
	return true, ""
}

func isWSL() bool {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	return err == nil && strings.Contains(strings.ToLower(string(data)), "microsoft")
}

// openBrowser starts $BROWSER with the URL, or the system's opener (pkg/browser) with its
// chatter sent to stderr. It does not wait for the browser to exit.
func (u *ui) openBrowser(url string) error {
	if b := os.Getenv("BROWSER"); b != "" {
		cmd := exec.Command(b, url)
		cmd.Stdout, cmd.Stderr = u.stderr, u.stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait()
		return nil
	}
	browser.Stdout, browser.Stderr = u.stderr, u.stderr
	return browser.OpenURL(url)
}

// pastedRedirects reads lines the user pastes (for --no-browser) and yields those that look
// like a URL.
func (u *ui) pastedRedirects() <-chan string {
	ch := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(u.stdin)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "http") {
				ch <- line
				return
			}
		}
	}()
	return ch
}
